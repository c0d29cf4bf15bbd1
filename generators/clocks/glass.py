"""What lies above the hands: crystal reflections, distractor lines and the lens vignette."""

import math

import numpy as np
import skia

from .draw_body import dial_outline
from .faces import FaceSpec
from .paints import radial, stroke


def draw_crystal(canvas: skia.Canvas, face: FaceSpec) -> None:
    """Reflections on the glass, in dial units under the camera transform."""
    strength = face.glass_strength
    if strength < 0.15:
        return
    outline = dial_outline(face.body).grown(2)
    t = math.radians(face.light_angle)
    lx, ly = math.sin(t), -math.cos(t)
    canvas.save()
    canvas.clipPath(outline.path(), doAntiAlias=True)
    # A crescent of reflected window light near the lit edge.
    crescent = skia.Path().addCircle(0, 0, outline.short_radius * 1.05)
    crescent = skia.Op(
        crescent,
        skia.Path().addCircle(-lx * 28, -ly * 28, outline.short_radius * 1.02),
        skia.PathOp.kDifference_PathOp,
    )
    canvas.drawPath(crescent, _fade((lx, ly), 0.55 * strength))
    # A soft diagonal sheen across the whole crystal.
    canvas.drawPaint(radial((lx * 70, ly * 70), 140, [(255, 255, 255), (255, 255, 255)], [0.16 * strength, 0.0]))
    canvas.restore()


def _fade(direction: tuple[float, float], alpha: float) -> skia.Paint:
    lx, ly = direction
    shader = skia.GradientShader.MakeLinear(
        [skia.Point(lx * 100, ly * 100), skia.Point(-lx * 30, -ly * 30)],
        [skia.ColorSetARGB(int(255 * alpha), 255, 255, 255), skia.ColorSetARGB(0, 255, 255, 255)],
    )
    return skia.Paint(AntiAlias=True, Shader=shader)


def draw_distractor_lines(canvas: skia.Canvas, face: FaceSpec, size: int) -> None:
    """SynClock-style distractor lines across the whole picture."""
    rng = np.random.default_rng(face.scene_seed + 2)
    for _ in range(face.distractor_lines):
        x0, y0, x1, y1 = (float(v) for v in rng.uniform(0, size, 4))
        rgb = tuple(int(v) for v in rng.integers(0, 256, 3))
        canvas.drawLine(x0, y0, x1, y1, stroke(rgb, float(rng.uniform(1, 3)), float(rng.uniform(0.5, 0.9))))


def make_vignette(size: int) -> skia.Image:
    """Darkened corners at full strength; each face draws it with its own alpha (gradients are slow here)."""
    surface = skia.Surface.MakeRaster(skia.ImageInfo.MakeN32Premul(size, size))
    surface.getCanvas().clear(skia.ColorTRANSPARENT)
    surface.getCanvas().drawPaint(
        radial((size / 2, size / 2), size * 0.75, [(0, 0, 0), (0, 0, 0)], [0.0, 0.5], positions=[0.5, 1.0])
    )
    return surface.makeImageSnapshot()


def draw_vignette(canvas: skia.Canvas, face: FaceSpec, vignette: skia.Image) -> None:
    paint = skia.Paint()
    paint.setAlphaf(float(np.random.default_rng(face.scene_seed + 3).uniform(0.0, 0.9)))
    canvas.drawImage(vignette, 0, 0, skia.SamplingOptions(), paint)
