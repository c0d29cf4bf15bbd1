"""What every renderer shares: the result type, the start/render/close life cycle, PNG normalisation."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

from PIL import Image

MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding them


@dataclass
class RenderResult:
    ok: bool
    png: bytes = b""
    error: str = ""  # why it failed, in words the pipeline can log and count
    seconds: float = 0.0


class RenderError(Exception):
    """Raised inside a renderer for bad input; render() turns it into RenderResult(ok=False)."""


def normalize_png(data: bytes, max_side: int = 4096) -> bytes:
    """Decode untrusted image bytes and re-encode as a clean RGB PNG on white, at most max_side a side."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > MAX_PIXELS:
                raise RenderError(f"image too large: {im.width}x{im.height}")
            im.load()
            rgba = im.convert("RGBA")
    except RenderError:
        raise
    except Exception as e:  # whatever the decoder dislikes
        raise RenderError(f"output is not a valid image: {type(e).__name__}: {e}") from e
    flat = Image.new("RGB", rgba.size, "white")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    if max(flat.size) > max_side:
        flat.thumbnail((max_side, max_side), Image.LANCZOS)
    out = io.BytesIO()
    flat.save(out, format="PNG", optimize=False)
    return out.getvalue()


def crop_to_content(png: bytes, margin: int = 24) -> bytes:
    """Trim the white page around the content (LaTeX renders a whole page), keeping a small margin."""
    with Image.open(io.BytesIO(png)) as im:
        if im.width * im.height > MAX_PIXELS:
            raise RenderError(f"image too large: {im.width}x{im.height}")
        rgb = im.convert("RGB")
    gray = rgb.convert("L")
    box = gray.point(lambda v: 255 if v < 245 else 0).getbbox()
    if box is None:
        raise RenderError("the rendered page is empty")
    left, top, right, bottom = box
    box = (
        max(0, left - margin),
        max(0, top - margin),
        min(gray.width, right + margin),
        min(gray.height, bottom + margin),
    )
    out = io.BytesIO()
    rgb.crop(box).save(out, format="PNG")
    return out.getvalue()


class Renderer:
    """Base class: subclasses set name/kind/CODE_INSTRUCTIONS and implement _render (maybe start/close)."""

    name = ""
    kind = ""  # PixMo-Docs figure family: charts, tables, diagrams or other
    CODE_INSTRUCTIONS = ""

    def start(self) -> None:
        """Expensive per-worker setup; safe to call more than once."""

    def close(self) -> None:
        """Release what start() took; safe to call more than once."""

    def _render(self, code: str, timeout_s: float) -> bytes:
        raise NotImplementedError

    def render(self, code: str, timeout_s: float = 20) -> RenderResult:
        """Render LLM-written code to a PNG. Never raises for bad code: failures come back as ok=False."""
        start = time.monotonic()
        try:
            png = normalize_png(self._render(code, timeout_s))
        except RenderError as e:
            return RenderResult(ok=False, error=str(e), seconds=time.monotonic() - start)
        except Exception as e:  # a renderer bug or a crashed browser must not kill the worker either
            return RenderResult(ok=False, error=f"{type(e).__name__}: {e}"[:500], seconds=time.monotonic() - start)
        return RenderResult(ok=True, png=png, seconds=time.monotonic() - start)

    def __enter__(self) -> Renderer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
