"""Surface pixels to JPEG or PNG bytes through Pillow (faster than skia's own JPEG encoder here)."""

import io

import numpy as np
import skia
from PIL import Image

_UNUSED_BAND = list(range(256))  # the fourth (padding) byte of each pixel passes through a table unchanged


class Encoder:
    """Reuses one pixel buffer per image size; not shared between threads."""

    def __init__(self, size: int, image_format: str, jpeg_quality: int, png_compress_level: int) -> None:
        self.size = size
        self.image_format = image_format
        self.jpeg_quality = jpeg_quality
        self.png_compress_level = png_compress_level
        self._pixels = np.empty((size, size, 4), dtype=np.uint8)
        self._info = skia.ImageInfo.Make(size, size, skia.kRGBA_8888_ColorType, skia.kPremul_AlphaType)

    def image(self, surface: skia.Surface, table: list[int] | None = None) -> Image.Image:
        """The surface as an RGBX image; `table` (768 levels, R then G then B) remaps each channel on the way."""
        surface.readPixels(self._info, self._pixels, self.size * 4)
        # Shares the buffer: an RGBX image, no copy.
        image = Image.frombuffer("RGB", (self.size, self.size), self._pixels, "raw", "RGBX", 0, 1)
        return image.point(table + _UNUSED_BAND) if table is not None else image

    def encode(self, surface: skia.Surface, table: list[int] | None = None) -> bytes:
        return self.encode_image(self.image(surface, table))

    def encode_image(self, image: Image.Image) -> bytes:
        out = io.BytesIO()
        if self.image_format == "jpeg":
            image.save(out, format="JPEG", quality=self.jpeg_quality)
        else:
            # Pillow keeps the shared buffer's RGBX layout, which its PNG writer refuses.
            image.convert("RGB").save(out, format="PNG", compress_level=self.png_compress_level)
        return out.getvalue()
