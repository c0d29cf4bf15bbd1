"""The request body cap: by the declared length, and while a chunked body streams in."""

from collections.abc import Iterator

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from annotation.app.config import AppConfig
from annotation.app.limits import JSON_BODY_BYTES, BodyLimit, body_limit
from annotation.app.state import ApiError

CONFIG = AppConfig(data_dir="unused", max_audio_bytes=1000, max_request_bytes=50_000)


def echo_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(BodyLimit, config=CONFIG)

    @app.exception_handler(ApiError)
    async def error(_: Request, exc: ApiError):  # noqa: ANN202 - as the real app answers ApiErrors
        from fastapi.responses import JSONResponse

        return JSONResponse(exc.detail, status_code=exc.status_code)

    @app.post("/{path:path}")
    async def read(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return app


def test_limits_depend_on_the_route() -> None:
    assert body_limit(CONFIG, "/api/admin/images") == 50_000
    assert body_limit(CONFIG, "/api/tasks/abc/recordings") == 1000 + 64 * 1024
    assert body_limit(CONFIG, "/api/tasks/abc/points") == JSON_BODY_BYTES


def test_oversized_bodies_get_413_declared_or_streamed() -> None:
    client = TestClient(echo_app())
    assert client.post("/api/admin/images", content=b"x" * 50_000).json() == {"bytes": 50_000}
    declared = client.post("/api/admin/images", content=b"x" * 50_001)
    assert declared.status_code == 413 and "too large" in declared.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(10):
            yield b"x" * 10_000

    streamed = client.post("/api/admin/images", content=chunks())
    assert streamed.status_code == 413 and "too large" in streamed.json()["error"]
