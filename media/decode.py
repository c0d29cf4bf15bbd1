"""Decode untrusted image bytes safely and normalise them to one RGB picture.

What can come in, and what happens to it:
- not an image, or a format we don't take (SVG, PDF, ...): rejected;
- truncated or corrupt files: rejected (PIL is never told to load truncated images);
- decompression bombs: rejected from the header's size, before any pixels are decoded;
- images too small to be useful: rejected;
- EXIF orientation: applied, so width/height and points match what a viewer shows;
- CMYK, 16-bit, palette, greyscale, alpha: converted to 8-bit RGB (alpha composited on white);
- animations: the first frame.
When the picture had to change (rotation, mode), the stored bytes are a re-encode of the normalised picture,
so readers that ignore EXIF (PIL, `datasets`) see the same pixels the labels were made on.
"""

import hashlib
import io
import sys
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from media.errors import MediaError

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "MPO"}
# Stored as they came when the pixels need no change; everything else is re-encoded.
PASSTHROUGH_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}
EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class DecodeConfig:
    max_pixels: int = 64_000_000  # width x height; above it the file is treated as a decompression bomb
    min_side: int = 32
    # Long side over short side; beyond it a picture is a strip (a banner, a 20000x50 line), not a scene.
    max_aspect_ratio: float = 10.0
    jpeg_quality: int = 95  # for re-encodes of JPEG sources (lossless sources are re-encoded as PNG)

    def validate(self) -> list[str]:
        problems = []
        if self.max_pixels < 1:
            problems.append("max pixels must be at least 1")
        if self.min_side < 1:
            problems.append("min side must be at least 1")
        if self.max_aspect_ratio < 1:
            problems.append("max aspect ratio must be at least 1")
        if not 1 <= self.jpeg_quality <= 95:
            problems.append("JPEG quality must be 1-95")
        return problems


@dataclass
class DecodedImage:
    image: Image.Image  # RGB, orientation applied
    data: bytes  # what to store: the original bytes, or a re-encode of `image`
    mime: str
    source_format: str
    width: int
    height: int
    changes: list[str] = field(default_factory=list)  # what normalisation did, e.g. ["exif_rotate", "cmyk"]

    @property
    def reencoded(self) -> bool:
        return bool(self.changes)


def content_facts(data: bytes) -> dict[str, object]:
    """What a dead letter may say about bytes that are not an image: size, a guess at the type, the hash."""
    return {"bytes": len(data), "detected_type": sniff_type(data), "sha256": hashlib.sha256(data).hexdigest()}


_MAGIC = (
    (b"%PDF", "pdf"),
    (b"PK\x03\x04", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"OggS", "ogg"),
    (b"RIFF", "riff"),
    (b"\x00\x00\x00", "binary"),
)


def sniff_type(data: bytes) -> str:
    """A coarse guess from the first bytes: pdf, zip, svg, html, xml, json, text or binary."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    head = data[:512].lstrip().lower()
    if head.startswith(b"<svg") or b"<svg" in head[:256]:
        return "svg"
    if head.startswith((b"<!doctype html", b"<html")):
        return "html"
    if head.startswith(b"<?xml"):
        return "xml"
    if head.startswith((b"{", b"[")):
        return "json"
    try:
        data[:512].decode("utf-8")
    except UnicodeDecodeError:
        return "binary"
    return "text"


def pil_open(data: bytes) -> Image.Image:
    """PIL's own Image.open, even when ultralytics has replaced it.

    Importing ultralytics swaps PIL.Image.open for a wrapper that, on any file PIL cannot identify, tries to
    pip-install a HEIF plugin and retries. Untrusted bytes must not trigger installs (or their import errors).
    """
    opener = Image.open
    if getattr(opener, "__module__", "PIL.Image") != "PIL.Image":
        opener = getattr(sys.modules.get("ultralytics.utils.patches"), "_image_open", opener)
    return opener(io.BytesIO(data))


def decode_image(data: bytes, config: DecodeConfig = DecodeConfig()) -> DecodedImage:
    """Decode and normalise `data`, or raise MediaError with the reason."""
    if not data:
        raise MediaError("empty file")
    try:
        with warnings.catch_warnings():
            # PIL warns (not raises) between its limit and 2x its limit; we decide from the header ourselves.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = pil_open(data)
    except UnidentifiedImageError:
        # Metadata only: a dead letter never holds an input's content (it may be a secret read by mistake).
        raise MediaError("not an image (unrecognised format)", **content_facts(data)) from None
    except Image.DecompressionBombError as error:
        raise MediaError("decompression bomb", details=str(error)) from None
    except Exception as error:  # PIL raises many types for hostile headers
        raise MediaError(f"unreadable image header: {type(error).__name__}: {error}") from None
    fmt = opened.format or "?"
    if fmt not in ACCEPTED_FORMATS:
        raise MediaError(f"unsupported image format {fmt}", format=fmt)
    width, height = opened.size
    if width * height > config.max_pixels:
        raise MediaError(
            f"decompression bomb: {width}x{height} is over the {config.max_pixels}-pixel cap",
            width=width,
            height=height,
        )
    changes: list[str] = []
    if getattr(opened, "n_frames", 1) > 1:
        changes.append("first_frame")
    try:
        previous_limit = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None  # checked above with our own cap
        try:
            opened.seek(0)
            opened.load()
        finally:
            Image.MAX_IMAGE_PIXELS = previous_limit
    except Exception as error:  # truncated data, bad compression streams
        raise MediaError(f"corrupt or truncated image: {type(error).__name__}: {error}", format=fmt) from None

    orientation = opened.getexif().get(EXIF_ORIENTATION, 1)
    image = opened
    if orientation not in (1, None):
        image = ImageOps.exif_transpose(opened)
        changes.append(f"exif_orientation_{orientation}")
    image, mode_change = _to_rgb(image)
    if mode_change:
        changes.append(mode_change)
    if min(image.size) < config.min_side:
        raise MediaError(f"too small: {image.width}x{image.height} (min side {config.min_side})")
    ratio = max(image.size) / min(image.size)
    if ratio > config.max_aspect_ratio:
        raise MediaError(
            f"extreme aspect ratio: {image.width}x{image.height} is {ratio:.0f}:1 (max {config.max_aspect_ratio:g}:1)",
            width=image.width,
            height=image.height,
        )

    if not changes and fmt in PASSTHROUGH_FORMATS:
        stored, mime = data, PASSTHROUGH_FORMATS[fmt]
    else:
        stored, mime = _encode(image, lossy=fmt in ("JPEG", "MPO", "WEBP"), quality=config.jpeg_quality)
    return DecodedImage(image, stored, mime, fmt, image.width, image.height, changes)


def _to_rgb(image: Image.Image) -> tuple[Image.Image, str]:
    """8-bit RGB, and what was converted ('' when it already was)."""
    mode = image.mode
    if mode == "RGB":
        return image, ""
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # PIL's convert("RGB") clips 16-bit values at 255; scale the full range down instead.
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or array.max() > 255 else 255.0
        grey = np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB"), f"{mode}_to_8bit"
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        if image.mode == "RGB":
            return image, "palette"
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB"), "alpha_on_white"
    if mode == "CMYK":
        return image.convert("RGB"), "cmyk"
    if mode == "L":
        return image.convert("RGB"), "greyscale"
    return image.convert("RGB"), f"{mode.lower()}_to_rgb"


def _encode(image: Image.Image, lossy: bool, quality: int) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    if lossy:
        image.save(buffer, "JPEG", quality=quality)
        return buffer.getvalue(), "image/jpeg"
    image.save(buffer, "PNG", optimize=False)
    return buffer.getvalue(), "image/png"
