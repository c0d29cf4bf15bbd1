"""Per-sample camera effects that cost little: sensor noise from a cached tile, occasional blur, exposure."""

import numpy as np
import skia

NOISE_MARGIN = 64  # the tile is larger than the image so each sample can read it at a random offset


def make_noise_tile(size: int) -> skia.Image:
    """Premultiplied black/white speckle; drawn with a paint alpha that sets its strength."""
    rng = np.random.default_rng(20240917)  # fixed: the tile is part of the generator, not of a sample
    side = size + NOISE_MARGIN
    values = rng.normal(0.0, 1.0, (side, side))
    alpha = np.clip(np.abs(values) * 90, 0, 255).astype(np.uint8)
    white = np.where(values > 0, alpha, 0).astype(np.uint8)  # premultiplied: colour never exceeds alpha
    pixels = np.dstack([white, white, white, alpha])
    image = skia.Image.fromarray(pixels, colorType=skia.kRGBA_8888_ColorType, alphaType=skia.kPremul_AlphaType)
    # Redraw into native pixel order once, so per-sample blending takes skia's fast path.
    surface = skia.Surface.MakeRaster(skia.ImageInfo.MakeN32Premul(side, side))
    surface.getCanvas().clear(skia.ColorTRANSPARENT)
    surface.getCanvas().drawImage(image, 0, 0)
    return surface.makeImageSnapshot()


def draw_noise(canvas: skia.Canvas, tile: skia.Image, strength: float, rng: np.random.Generator) -> None:
    if strength <= 0:
        return
    dx, dy = (int(v) for v in rng.integers(0, NOISE_MARGIN, 2))
    paint = skia.Paint()
    paint.setAlphaf(min(1.0, strength * 3.0))
    canvas.drawImage(tile, -dx, -dy, skia.SamplingOptions(), paint)


def blur_surface(surface: skia.Surface, strength: str) -> None:
    """'mild': a 2x2 box blur; 'strong': a 4x4 one. Each is a few half-transparent copies of the picture moved
    by whole pixels (fast blits here, where a bilinear redraw costs 1.3 ms a pass)."""
    shifts = [(1, 0), (0, 1)] if strength == "mild" else [(1, 0), (0, 1), (2, 0), (0, 2)]
    canvas = surface.getCanvas()
    half = skia.Paint()
    half.setAlphaf(0.5)  # an opaque picture over itself at half alpha: the mean of the two
    for dx, dy in shifts:
        canvas.drawImage(surface.makeImageSnapshot(), dx, dy, skia.SamplingOptions(), half)


def exposure_table(rng: np.random.Generator) -> list[int]:
    """Per-sample brightness, contrast and white balance, so the samples of one face differ in light too.

    Each channel maps through its own affine curve, so the change is a 768-entry lookup table applied to the
    finished pixels as they are encoded (Pillow's `point`): a quarter of the cost of a skia colour matrix here.
    """
    gain = float(rng.uniform(0.85, 1.15))
    contrast = float(rng.uniform(0.88, 1.12))
    warmth = float(rng.uniform(-0.06, 0.06))
    scale = gain * contrast
    offset = 127.5 * (1.0 - contrast)
    levels = np.arange(256, dtype=np.float64)
    table = [np.clip(np.rint(levels * scale * tint + offset), 0, 255) for tint in (1 + warmth, 1.0, 1 - warmth)]
    return np.concatenate(table).astype(np.uint8).tolist()
