"""Backgrounds in screen space: the table, wall or fabric the watch lies on or hangs against.

Drawn first, so their gradients go straight into the pixels (gradients.py) instead of through skia's shaders.
"""

import math

import numpy as np
import skia

from .faces import FaceSpec
from .gradients import linear_gradient, vertical_bands
from .paints import blurred, colour, fill, radial, stroke
from .palette import mix

WOOD_TONES = [(150, 100, 60), (110, 70, 40), (190, 150, 100), (80, 50, 30), (170, 120, 80)]
MARBLE_TONES = [(235, 233, 228), (220, 220, 222), (60, 60, 64), (230, 225, 215)]
WALL_TONES = [
    (236, 232, 224),
    (220, 226, 230),
    (240, 240, 240),
    (200, 210, 196),
    (230, 214, 200),
    (60, 70, 80),
]


def draw_background(canvas: skia.Canvas, face: FaceSpec, size: int) -> None:
    rng = np.random.default_rng(face.scene_seed)
    a, b = face.background_colours
    kind = face.background
    if kind == "plain":
        canvas.clear(colour(a))
    elif kind == "gradient":
        angle = rng.uniform(0, 2 * math.pi)
        dx, dy = math.cos(angle) * size / 2, math.sin(angle) * size / 2
        linear_gradient(canvas, size, (size / 2 - dx, size / 2 - dy), (size / 2 + dx, size / 2 + dy), [a, b])
    elif kind == "wood":
        _wood(canvas, rng, size)
    elif kind == "fabric":
        _fabric(canvas, rng, a, size)
    elif kind == "bokeh":
        _bokeh(canvas, rng, a, b, size)
    elif kind == "marble":
        _marble(canvas, rng, size)
    elif kind == "wall":
        tone = WALL_TONES[int(rng.integers(len(WALL_TONES)))]
        vertical_bands(canvas, size, [(0, size, [mix(tone, (255, 255, 255), 0.15), mix(tone, (0, 0, 0), 0.2)])])
    elif kind == "desk":
        _desk(canvas, rng, a, size)
    else:
        raise ValueError(f"unknown background {kind!r}")


def _wood(canvas: skia.Canvas, rng: np.random.Generator, size: int) -> None:
    tone = WOOD_TONES[int(rng.integers(len(WOOD_TONES)))]
    canvas.clear(colour(tone))
    horizontal = rng.random() < 0.5
    canvas.save()
    if not horizontal:
        canvas.rotate(90, size / 2, size / 2)
    y = -size * 0.2
    while y < size * 1.2:
        shade = mix(tone, (0, 0, 0), float(rng.uniform(0.05, 0.35)))
        path = skia.Path()
        path.moveTo(-size * 0.2, y)
        wobble = rng.uniform(-12, 12, 4)
        path.cubicTo(size * 0.3, y + wobble[0], size * 0.6, y + wobble[1], size * 1.2, y + wobble[2])
        canvas.drawPath(path, stroke(shade, float(rng.uniform(0.6, 3.0)), float(rng.uniform(0.2, 0.6))))
        y += float(rng.uniform(3, 14))
    canvas.restore()


def _fabric(canvas: skia.Canvas, rng: np.random.Generator, base, size: int) -> None:
    canvas.clear(colour(base))
    step = float(rng.uniform(2.5, 5))
    dark, light = stroke((0, 0, 0), 1.0, 0.12), stroke((255, 255, 255), 1.0, 0.07)
    t = 0.0
    while t < size:
        canvas.drawLine(t, 0, t, size, dark)
        canvas.drawLine(0, t + step / 2, size, t + step / 2, light)
        t += step
    canvas.drawPaint(
        radial(
            (size * rng.uniform(0.2, 0.8), size * rng.uniform(0.2, 0.8)),
            size * 0.9,
            [(255, 255, 255), (0, 0, 0)],
            [0.12, 0.25],
        )
    )


def _bokeh(canvas: skia.Canvas, rng: np.random.Generator, a, b, size: int) -> None:
    linear_gradient(canvas, size, (0, 0), (size, size), [b, a, b])
    for _ in range(int(rng.integers(8, 20))):
        tint = tuple(int(v) for v in rng.integers(60, 256, 3))
        r = float(rng.uniform(0.03, 0.14)) * size
        canvas.drawCircle(
            float(rng.uniform(0, size)),
            float(rng.uniform(0, size)),
            r,
            blurred(tint, float(rng.uniform(0.15, 0.45)), r * 0.25),
        )


def _marble(canvas: skia.Canvas, rng: np.random.Generator, size: int) -> None:
    tone = MARBLE_TONES[int(rng.integers(len(MARBLE_TONES)))]
    vein = (40, 40, 40) if tone[0] > 128 else (200, 200, 200)
    canvas.clear(colour(tone))
    for _ in range(int(rng.integers(4, 10))):
        path = skia.Path()
        x, y = rng.uniform(-0.2, 1.2) * size, -0.1 * size
        path.moveTo(x, y)
        for _ in range(6):
            x += rng.uniform(-0.15, 0.25) * size
            y += rng.uniform(0.1, 0.3) * size
            path.lineTo(x, y)
        width, alpha = float(rng.uniform(0.5, 3)), float(rng.uniform(0.1, 0.35))
        # A soft vein: a wide faint stroke under a narrow one (a blur mask costs about 1 ms a vein here).
        canvas.drawPath(path, stroke(vein, width + 2.4, alpha * 0.45))
        canvas.drawPath(path, stroke(vein, width, alpha * 0.6))


def _desk(canvas: skia.Canvas, rng: np.random.Generator, top, size: int) -> None:
    horizon = float(rng.uniform(0.15, 0.5)) * size
    wall = WALL_TONES[int(rng.integers(len(WALL_TONES)))]
    vertical_bands(
        canvas,
        size,
        [(0, horizon, [wall, mix(wall, (0, 0, 0), 0.15)]), (horizon, size, [mix(top, (0, 0, 0), 0.25), top])],
    )
    canvas.drawRect(skia.Rect(0, horizon, size, horizon + 2), fill((0, 0, 0), 0.2))
