"""Soft shadows at a fraction of a blur's cost: the hands' as stacked solid copies of each hand, grown and shrunk;
the watch's own drop shadow blurred at a quarter of the resolution and scaled up.

skia's blur mask filter costs about 0.27 ms per hand here; three solid antialiased fills of the same hand cost
0.08 ms. A shadow of `steps` layers, from `spread` outside the edge to `spread` inside it, each with the alpha that
makes all of them together reach `alpha`, falls off across the edge like a blur of sigma about spread / 1.5. The
layers are built once per face (path ops: fine for hands, slow for 144-point case outlines).
"""

import functools

import numpy as np
import skia
from PIL import Image

RGB = tuple[int, int, int]
DROP_SHADOW_SCALE = 4  # the drop shadow is blurred on a canvas this many times smaller, where blurring is 16x cheaper


def outline_offset(path: skia.Path, distance: float) -> skia.Path:
    """`path` grown (distance > 0) or shrunk (distance < 0) by `distance` units; empty where it shrinks away."""
    if distance == 0:
        return skia.Path(path)
    if distance > 0:  # a stroke-and-fill outline draws as the union of the two: no path op needed
        grow = skia.Paint(Style=skia.Paint.kStrokeAndFill_Style, StrokeWidth=2 * distance)
        grow.setStrokeJoin(skia.Paint.kRound_Join)
        grown = skia.Path()
        grow.getFillPath(path, grown)
        return grown
    band = skia.Path()
    skia.Paint(Style=skia.Paint.kStroke_Style, StrokeWidth=-2 * distance).getFillPath(path, band)
    return skia.Op(path, band, skia.PathOp.kDifference_PathOp) or skia.Path()


_SHAPES_CACHE: dict[tuple[bytes, float, int], list[skia.Path]] = {}


def _shadow_shapes(path: skia.Path, spread: float, steps: int) -> list[skia.Path]:
    """The grown and shrunk copies, outermost first; cached by the path's bytes (faces repeat hand shapes)."""
    key = (bytes(path.serialize()), spread, steps)
    shapes = _SHAPES_CACHE.get(key)
    if shapes is None:
        distances = [spread * (1.0 - 2.0 * k / (steps - 1)) if steps > 1 else 0.0 for k in range(steps)]
        shapes = [shape for shape in (outline_offset(path, d) for d in distances) if not shape.isEmpty()]
        if len(_SHAPES_CACHE) > 4096:
            _SHAPES_CACHE.clear()
        _SHAPES_CACHE[key] = shapes
    return shapes


def soft_shadow(
    path: skia.Path, spread: float, steps: int, alpha: float, rgb: RGB = (0, 0, 0)
) -> list[tuple[skia.Path, skia.Paint]]:
    """Layers (outermost first) that together draw `path`'s soft shadow."""
    layer_alpha = 1.0 - (1.0 - alpha) ** (1.0 / steps)
    paint = skia.Paint(AntiAlias=True, Color=skia.ColorSetARGB(round(255 * layer_alpha), *rgb))
    return [(shape, paint) for shape in _shadow_shapes(path, spread, steps)]


@functools.cache
def _drop_shadow_buffers(size: int) -> tuple[skia.Surface, np.ndarray, skia.Surface, np.ndarray]:
    """Per image size, reused (fresh megabytes cost more in page faults than the drawing): the small alpha
    canvas and its pixels, and a full-size canvas and RGBA pixels for the scaled-up shadow."""
    small = -(-size // DROP_SHADOW_SCALE)
    return (
        skia.Surface.MakeRaster(skia.ImageInfo.MakeA8(small, small)),
        np.empty((small, small), np.uint8),
        skia.Surface.MakeRaster(skia.ImageInfo.MakeN32Premul(size, size)),
        np.zeros((size, size, 4), np.uint8),  # black: only the alpha channel is ever written
    )


def draw_drop_shadow(
    canvas: skia.Canvas, size: int, path: skia.Path, matrix: skia.Matrix, sigma: float, alpha: float
) -> None:
    """Black `path` (in the units `matrix` maps to pixels) blurred by `sigma` units at `alpha`, over the canvas.

    skia blurs a watch-sized mask in about 3 ms here; at a quarter of the resolution the blur is cheap, and a
    shadow this soft loses nothing to Pillow's bilinear scaling back up (the pixels differ by 3 levels at most).
    """
    small, mask, full, pixels = _drop_shadow_buffers(size)
    side = small.width()
    draw = small.getCanvas()
    draw.clear(skia.ColorTRANSPARENT)
    draw.save()
    draw.scale(1 / DROP_SHADOW_SCALE, 1 / DROP_SHADOW_SCALE)
    draw.concat(matrix)
    blur = skia.MaskFilter.MakeBlur(skia.kNormal_BlurStyle, sigma)  # sigma follows the (scaled) matrix
    paint = skia.Paint(AntiAlias=True, Color=skia.ColorSetARGB(round(255 * alpha), 0, 0, 0), MaskFilter=blur)
    draw.drawPath(path, paint)
    draw.restore()
    small.readPixels(skia.ImageInfo.MakeA8(side, side), mask, side)
    scaled = Image.frombuffer("L", (side, side), mask, "raw", "L", 0, 1).resize(
        (side * DROP_SHADOW_SCALE, side * DROP_SHADOW_SCALE), Image.BILINEAR
    )
    pixels[..., 3] = np.asarray(scaled)[:size, :size]
    info = skia.ImageInfo.Make(size, size, skia.kRGBA_8888_ColorType, skia.kPremul_AlphaType)
    full.writePixels(skia.Pixmap(info, pixels, size * 4))
    canvas.drawImage(full.makeImageSnapshot(), 0, 0)  # a plain premultiplied blit: skia's fast path
