"""Safe decoding: hostile and odd files are rejected with a reason or normalised to 8-bit RGB."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from media import DecodeConfig, MediaError, decode_image


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def gradient(size=(120, 80)) -> Image.Image:
    x = np.linspace(0, 255, size[0], dtype=np.uint8)
    array = np.stack([np.tile(x, (size[1], 1))] * 3, axis=-1)
    array[: size[1] // 2, :, 0] = 255  # top half red-ish: orientation is visible
    return Image.fromarray(array, "RGB")


def reason(data: bytes, config: DecodeConfig = DecodeConfig()) -> str:
    with pytest.raises(MediaError) as caught:
        decode_image(data, config)
    return caught.value.reason


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge size (a decompression bomb's calling card)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_a_plain_jpeg_is_kept_byte_for_byte():
    data = encode(gradient(), "JPEG")
    decoded = decode_image(data)
    assert decoded.data == data and decoded.mime == "image/jpeg" and not decoded.reencoded
    assert (decoded.width, decoded.height) == (120, 80) and decoded.image.mode == "RGB"


def test_non_images_empty_files_and_unsupported_formats_are_rejected():
    assert reason(b"") == "empty file"
    assert "not an image" in reason(b"<html>hello</html>")
    assert "unsupported image format" in reason(encode(gradient(), "PPM"))


def test_truncated_files_are_rejected():
    data = encode(gradient((400, 300)), "JPEG")
    assert "truncated" in reason(data[: len(data) // 2]) or "corrupt" in reason(data[: len(data) // 2])
    png = encode(gradient((400, 300)), "PNG")
    assert "corrupt or truncated" in reason(png[: len(png) // 2])


def test_decompression_bombs_are_rejected_before_decoding():
    assert "decompression bomb" in reason(png_header_only(100_000, 100_000))  # PIL's own hard limit
    assert "decompression bomb" in reason(png_header_only(9_000, 9_000))  # over our 64e6 cap, under PIL's
    small_cap = DecodeConfig(max_pixels=5_000)
    assert "over the 5000-pixel cap" in reason(encode(gradient(), "PNG"), small_cap)


def test_tiny_images_are_rejected():
    assert "too small" in reason(encode(gradient((20, 200)), "PNG"))


def test_exif_rotation_is_applied_and_the_stored_bytes_have_it_baked_in():
    image = gradient((120, 80))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 clockwise to display
    decoded = decode_image(encode(image, "JPEG", exif=exif.tobytes()))
    assert (decoded.width, decoded.height) == (80, 120)
    assert decoded.changes == ["exif_orientation_6"] and decoded.mime == "image/jpeg"
    stored = Image.open(io.BytesIO(decoded.data))
    assert stored.size == (80, 120) and stored.getexif().get(0x0112, 1) == 1
    # Turned clockwise, as a viewer shows it (not the other way).
    got = np.asarray(decoded.image, dtype=np.int16)
    clockwise = np.asarray(image.transpose(Image.Transpose.ROTATE_270), dtype=np.int16)
    anticlockwise = np.asarray(image.transpose(Image.Transpose.ROTATE_90), dtype=np.int16)
    assert np.abs(got - clockwise).mean() < 5 < np.abs(got - anticlockwise).mean()


def test_cmyk_becomes_rgb():
    decoded = decode_image(encode(gradient().convert("CMYK"), "JPEG"))
    assert decoded.image.mode == "RGB" and decoded.changes == ["cmyk"] and decoded.mime == "image/jpeg"


def test_16_bit_greyscale_is_scaled_not_clipped():
    array = np.tile(np.linspace(0, 65535, 100).astype(np.uint16), (50, 1))
    decoded = decode_image(encode(Image.fromarray(array), "PNG"))
    assert decoded.changes and decoded.changes[0].endswith("_to_8bit") and decoded.mime == "image/png"
    grey = np.asarray(decoded.image)[:, :, 0]
    assert grey[0, 0] == 0 and grey[0, -1] == 255 and 120 <= grey[0, 50] <= 135


def test_palette_and_alpha_are_flattened_on_white():
    rgba = Image.new("RGBA", (64, 64), (255, 0, 0, 255))
    rgba.paste((0, 0, 0, 0), (0, 0, 32, 64))  # left half transparent
    decoded = decode_image(encode(rgba, "PNG"))
    assert decoded.changes == ["alpha_on_white"]
    assert decoded.image.getpixel((5, 5)) == (255, 255, 255) and decoded.image.getpixel((50, 5)) == (255, 0, 0)

    palette = gradient().convert("P")
    assert decode_image(encode(palette, "PNG")).changes == ["palette"]
    transparent = rgba.convert("P")
    transparent.info["transparency"] = transparent.getpixel((5, 5))
    assert decode_image(encode(transparent, "PNG", transparency=transparent.getpixel((5, 5)))).changes == [
        "alpha_on_white"
    ]


def test_greyscale_and_animations():
    assert decode_image(encode(gradient().convert("L"), "JPEG")).changes == ["greyscale"]
    frames = [Image.new("RGB", (64, 64), c) for c in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    decoded = decode_image(buffer.getvalue())
    assert "first_frame" in decoded.changes and decoded.mime == "image/png"
    assert decoded.image.getpixel((10, 10))[0] > 200  # the first (red) frame


def test_ultralytics_pil_patch_never_sees_untrusted_bytes():
    """Importing ultralytics swaps PIL.Image.open for a wrapper that tries to pip-install a HEIF plugin on unknown
    files; decoding must still just say 'not an image'."""
    pytest.importorskip("ultralytics.utils.patches")
    assert "not an image" in reason(b"\x00\x01garbage" * 10)
