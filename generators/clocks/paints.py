"""Small constructors for skia paints: flat fills, strokes and metal gradients."""

import skia

from .palette import METALS

RGB = tuple[int, int, int]


def colour(rgb: RGB, alpha: float = 1.0) -> int:
    return skia.ColorSetARGB(int(round(255 * alpha)), *rgb)


def fill(rgb: RGB, alpha: float = 1.0, antialias: bool = True) -> skia.Paint:
    return skia.Paint(AntiAlias=antialias, Color=colour(rgb, alpha))


def stroke(rgb: RGB, width: float, alpha: float = 1.0, cap=skia.Paint.kButt_Cap) -> skia.Paint:
    paint = skia.Paint(AntiAlias=True, Color=colour(rgb, alpha), Style=skia.Paint.kStroke_Style, StrokeWidth=width)
    paint.setStrokeCap(cap)
    return paint


def blurred(rgb: RGB, alpha: float, sigma: float) -> skia.Paint:
    paint = fill(rgb, alpha)
    paint.setMaskFilter(skia.MaskFilter.MakeBlur(skia.kNormal_BlurStyle, sigma))
    return paint


def linear(p0: tuple[float, float], p1: tuple[float, float], colours: list[RGB], alpha: float = 1.0) -> skia.Paint:
    shader = skia.GradientShader.MakeLinear([skia.Point(*p0), skia.Point(*p1)], [colour(c, alpha) for c in colours])
    return skia.Paint(AntiAlias=True, Shader=shader)


def radial(
    centre: tuple[float, float],
    radius: float,
    colours: list[RGB],
    alphas: list[float] | None = None,
    positions: list[float] | None = None,
) -> skia.Paint:
    alphas = alphas or [1.0] * len(colours)
    shader = skia.GradientShader.MakeRadial(
        skia.Point(*centre), radius, [colour(c, a) for c, a in zip(colours, alphas, strict=True)], positions
    )
    return skia.Paint(AntiAlias=True, Shader=shader)


def metal_linear(metal: str, p0: tuple[float, float], p1: tuple[float, float]) -> skia.Paint:
    """Polished metal: a bright band between darker edges along p0 -> p1."""
    light, base, dark = METALS[metal]
    return linear(p0, p1, [dark, base, light, base, dark, base])


def metal_sweep(metal: str, rotation: float = 0.0) -> skia.Paint:
    """Turned metal around the centre: alternating highlights, as a round case reflects a room."""
    light, base, dark = METALS[metal]
    colours = [base, light, base, dark, base, light, dark, base]
    shader = skia.GradientShader.MakeSweep(
        0, 0, [colour(c) for c in colours], localMatrix=skia.Matrix.RotateDeg(rotation)
    )
    return skia.Paint(AntiAlias=True, Shader=shader)
