"""Screen-space linear gradients computed with numpy and written straight into the canvas.

skia's gradient shaders cost about 15 ns a pixel in this build (2.9 ms for a 448 px background); a background
gradient has no transform, clip or blending, so a lookup table indexed by each pixel's position along the
gradient gives the same picture for a fraction of that. The work arrays are kept per image size: a fresh
megabyte costs more in page faults (about 4 us a page here) than the arithmetic.
"""

import functools

import numpy as np
import skia

RGB = tuple[int, int, int]
LEVELS = 1024  # table entries between the first and the last stop: finer than 8-bit colour steps


def _table(colours: list[RGB]) -> np.ndarray:
    """Opaque BGRA pixels (as uint32) for t = 0..1 across evenly spaced stops, interpolated like skia's."""
    stops = np.linspace(0.0, 1.0, len(colours))
    t = np.linspace(0.0, 1.0, LEVELS)
    rgb = np.array(colours, dtype=np.float64)
    channels = [np.rint(np.interp(t, stops, rgb[:, c])).astype(np.uint32) for c in range(3)]
    red, green, blue = channels
    return (blue | (green << 8) | (red << 16) | np.uint32(0xFF000000)).astype("<u4")


@functools.cache
def _scratch(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Work arrays for one image size: position along the gradient, table index, pixels."""
    return np.empty((size, size), np.float32), np.empty((size, size), np.uint16), np.empty((size, size), "<u4")


def linear_gradient(
    canvas: skia.Canvas, size: int, p0: tuple[float, float], p1: tuple[float, float], colours: list[RGB]
) -> None:
    """Fill the whole canvas (ignoring its matrix and clip) with a linear gradient from p0 to p1, clamped."""
    (x0, y0), (x1, y1) = p0, p1
    ux, uy = x1 - x0, y1 - y0
    scale = (LEVELS - 1) / (ux * ux + uy * uy)
    centres = np.arange(size, dtype=np.float32) + 0.5  # skia samples gradients at pixel centres
    along, index, pixels = _scratch(size)
    np.add.outer((centres - y0) * (uy * scale), (centres - x0) * (ux * scale), out=along)
    np.clip(along, 0, LEVELS - 1, out=along)
    along += 0.5  # rounds to the nearest level when truncated below
    index[...] = along
    np.take(_table(colours), index, out=pixels)
    write_bgra(canvas, pixels)


def vertical_bands(canvas: skia.Canvas, size: int, bands: list[tuple[float, float, list[RGB]]]) -> None:
    """Fill the canvas with horizontal bands, each (top, bottom, colours) a vertical gradient from top to
    bottom; a pixel row belongs to the band its centre falls in."""
    row_pixels = np.empty(size, dtype="<u4")
    centres = np.arange(size, dtype=np.float64) + 0.5
    for top, bottom, colours in bands:
        rows = (centres >= top) & (centres < bottom)
        t = (centres[rows] - top) / (bottom - top)
        row_pixels[rows] = _table(colours)[np.clip(np.rint(t * (LEVELS - 1)), 0, LEVELS - 1).astype(np.intp)]
    pixels = _scratch(size)[2]
    pixels[...] = row_pixels[:, None]
    write_bgra(canvas, pixels)


def write_bgra(canvas: skia.Canvas, pixels: np.ndarray) -> None:
    """Opaque BGRA pixels (a 2-D uint32 array) straight into the canvas at its origin."""
    height, width = pixels.shape
    info = skia.ImageInfo.Make(width, height, skia.kBGRA_8888_ColorType, skia.kPremul_AlphaType)
    canvas.writePixels(info, pixels, width * 4, 0, 0)
