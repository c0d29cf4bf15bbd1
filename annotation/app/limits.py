"""A size cap on every request body, checked as it arrives, so an oversized upload is refused before it is spooled.

Annotators' requests are small (JSON, or one recording); only admins upload many images at once. The per-file caps
(config.max_image_bytes, max_audio_bytes) are checked again where each file is read.
"""

import re
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from annotation.app.config import AppConfig
from annotation.app.state import ApiError

JSON_BODY_BYTES = 1024 * 1024  # a label, question or answer is at most max_text_chars; this leaves ample room
FORM_OVERHEAD_BYTES = 64 * 1024  # multipart boundaries and the small fields next to a file
RECORDING_UPLOAD = re.compile(r"^/api/tasks/[^/]+/recordings/?$")


def body_limit(config: AppConfig, path: str) -> int:
    if path.startswith("/api/admin/"):
        return config.max_request_bytes
    if RECORDING_UPLOAD.match(path):
        return config.max_audio_bytes + FORM_OVERHEAD_BYTES
    return JSON_BODY_BYTES


def size_text(n: int) -> str:
    """Bytes for people: 400 kB, 32 MiB."""
    return f"{n / (1024 * 1024):g} MiB" if n >= 1024 * 1024 else f"{n / 1000:g} kB"


def too_large(limit: int) -> ApiError:
    return ApiError(413, f"The upload is too large: at most {size_text(limit)} in one request.")


class BodyLimit:
    """ASGI middleware: 413 from the Content-Length header when it is too big, or as soon as the bytes that arrive
    pass the limit (chunked uploads, or a header that lies)."""

    def __init__(self, app: ASGIApp, config: AppConfig) -> None:
        self.app, self.config = app, config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(self.config, scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = JSONResponse(too_large(limit).detail, status_code=413, headers={"Connection": "close"})
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large(limit)  # raised inside the handler's read: the app's error handler answers
            return message

        await self.app(scope, counted, send)
