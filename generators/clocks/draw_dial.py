"""The dial: its surface, markers, numerals, sub-dials, date window, brand text and logo (dial units)."""

import math

import numpy as np
import skia

from .draw_body import dial_outline
from .faces import FaceSpec
from .fonts import font
from .geometry import ring
from .paints import colour, fill, linear, metal_linear, radial, stroke
from .palette import mix

ROMAN = ["XII", "I", "II", "III", "IIII", "V", "VI", "VII", "VIII", "IX", "X", "XI"]
SUBDIAL_ANGLES = {1: [180], 2: [90, 270], 3: [90, 180, 270]}
SUBDIAL_DISTANCE, SUBDIAL_RADIUS = 48.0, 22.0


def draw_dial(canvas: skia.Canvas, face: FaceSpec) -> None:
    outline = dial_outline(face.body)
    path = outline.path()
    canvas.save()
    canvas.clipPath(path, doAntiAlias=True)
    _draw_surface(canvas, face, outline)
    if face.minute_track:
        _draw_minute_track(canvas, face, outline)
    _draw_indices(canvas, face, outline)
    _draw_numerals(canvas, face, outline)
    for angle in SUBDIAL_ANGLES.get(face.subdials, []):
        _draw_subdial(canvas, face, angle)
    if face.date_window != "none":
        _draw_date_window(canvas, face, outline)
    _draw_texts(canvas, face, outline)
    canvas.restore()
    # Inner shadow under the bezel makes the dial sit below the case: stacked rings inside the dial edge, a
    # cheap soft edge (as rings, not strokes inside the clip: half of each stroke was clipped away, at a cost).
    for depth, alpha in ((6.0, 0.08), (3.5, 0.1), (1.5, 0.14)):
        canvas.drawPath(_inner_ring(outline, depth), fill((0, 0, 0), alpha))


def _inner_ring(outline, depth: float) -> skia.Path:
    """The band between the dial outline and the outline `depth` units inside it."""
    return ring(outline.path(), outline.grown(-depth).path())


def _draw_surface(canvas: skia.Canvas, face: FaceSpec, outline) -> None:
    base = face.dial_colour
    r = max(outline.a, outline.b) * 1.45
    texture = face.dial_texture
    lighter, darker = mix(base, (255, 255, 255), 0.22), mix(base, (0, 0, 0), 0.3)
    if texture == "sunburst":
        colours = [lighter if k % 2 else darker for k in range(16)] + [darker]
        shader = skia.GradientShader.MakeSweep(
            0, 0, [colour(c) for c in colours], localMatrix=skia.Matrix.RotateDeg(face.light_angle)
        )
        canvas.drawPaint(skia.Paint(Shader=shader))
        canvas.drawPaint(radial((0, 0), r, [base, base], [0.55, 0.0]))
        fine = stroke(lighter, 0.5, 0.18)
        for k in range(0, 360, 2):
            t = math.radians(k)
            canvas.drawLine(0, 0, r * math.sin(t), -r * math.cos(t), fine)
    elif texture == "fume":
        canvas.drawPaint(
            radial(
                (0, 0),
                r * 0.75,
                [mix(base, (255, 255, 255), 0.18), base, mix(base, (0, 0, 0), 0.6)],
                positions=[0.0, 0.45, 1.0],
            )
        )
    elif texture == "gradient":
        canvas.drawPaint(linear((0, -r * 0.7), (0, r * 0.7), [lighter, base, darker]))
    else:
        canvas.clear(colour(base))
    if texture == "guilloche":
        line = stroke(darker, 0.7, 0.35)
        for k in range(16):
            angle = 22.5 * k
            cx, cy = 30 * math.sin(math.radians(angle)), -30 * math.cos(math.radians(angle))
            canvas.drawCircle(cx, cy, 46, line)
        for radius in range(4, 60, 4):
            canvas.drawCircle(0, 0, radius, stroke(lighter, 0.5, 0.25))
    elif texture == "sector":
        canvas.drawCircle(0, 0, 62, fill(mix(base, (255, 255, 255) if base[0] < 128 else (0, 0, 0), 0.08)))
        for radius in (62, 40):
            canvas.drawCircle(0, 0, radius, stroke(face.ink, 0.8, 0.6))
        for k in range(12):
            t = math.radians(30 * k)
            canvas.drawLine(
                40 * math.sin(t),
                -40 * math.cos(t),
                62 * math.sin(t),
                -62 * math.cos(t),
                stroke(face.ink, 0.6, 0.5),
            )
    elif texture == "linen":
        line = stroke(darker, 0.6, 0.25)
        for k in range(-110, 110, 3):
            canvas.drawLine(k, -110, k, 110, line)
            canvas.drawLine(-110, k, 110, k, stroke(lighter, 0.6, 0.2))
    elif texture == "carbon":
        cell = fill(darker, 0.6)
        for i in range(-28, 28):
            for j in range(-28, 28):
                if (i + j) % 2 == 0:
                    canvas.drawRect(skia.Rect(i * 4, j * 4, i * 4 + 4, j * 4 + 2), cell)
    # Soft light from the face's light direction.
    t = math.radians(face.light_angle)
    canvas.drawPaint(
        radial((60 * math.sin(t), -60 * math.cos(t)), 150, [(255, 255, 255), (255, 255, 255)], [0.14, 0.0])
    )


def _draw_minute_track(canvas: skia.Canvas, face: FaceSpec, outline) -> None:
    canvas.drawPath(outline.grown(-3).path(), stroke(face.ink, 0.8, 0.8))
    canvas.drawPath(outline.grown(-9).path(), stroke(face.ink, 0.8, 0.8))
    tick = stroke(face.ink, 0.9)
    for k in range(60):
        p0, p1 = outline.point(6.0 * k, 3), outline.point(6.0 * k, 9)
        canvas.drawLine(*p0, *p1, tick)


def _marker_inset(face: FaceSpec) -> float:
    return 11.0 if face.minute_track else 4.0


def _skip_hour(face: FaceSpec, hour: int) -> bool:
    """Hours covered by a sub-dial or the date window lose their marker or numeral."""
    angle = (hour % 12) * 30
    if angle in SUBDIAL_ANGLES.get(face.subdials, []) and angle != 0:
        return True
    return face.date_window != "none" and hour % 12 == 3


def _draw_indices(canvas: skia.Canvas, face: FaceSpec, outline) -> None:
    style = face.index_style
    inset = _marker_inset(face)
    ink = face.ink
    if style in ("minute_ticks", "railway"):
        if style == "railway":
            canvas.drawPath(outline.grown(-inset).path(), stroke(ink, 1.0))
            canvas.drawPath(outline.grown(-inset - 7).path(), stroke(ink, 1.0))
        for k in range(60):
            hour_tick = k % 5 == 0
            length = 7.0 if style == "railway" else (10.0 if hour_tick else 5.0)
            p0, p1 = outline.point(6.0 * k, inset), outline.point(6.0 * k, inset + length)
            canvas.drawLine(*p0, *p1, stroke(ink, 3.0 if hour_tick else 1.1))
        return
    if style == "none":
        return
    applied = face.metal if face.metal != "wood" else "steel"
    for hour in range(12):
        if _skip_hour(face, hour):
            continue
        angle = 30.0 * hour
        canvas.save()
        x, y = outline.point(angle, inset)
        canvas.translate(x, y)
        canvas.rotate(angle)
        cardinal = hour % 3 == 0
        if style == "dots" or (style == "diver" and not cardinal):
            canvas.drawCircle(0, 7, 5.0, fill(ink))
            if face.hand_lume:
                canvas.drawCircle(0, 7, 3.6, fill((226, 236, 200)))
        elif style in ("triangles", "diver") and hour == 0:
            tri = skia.Path()
            tri.moveTo(-8, 0)
            tri.lineTo(8, 0)
            tri.lineTo(0, 16)
            tri.close()
            canvas.drawPath(tri, fill(ink))
        else:
            width = 7.0 if style == "diver" else 4.5
            length = 16.0 if cardinal or style in ("batons", "diver") else 11.0
            rects = [(-width / 2, 0)] if not (style == "double_batons" and hour == 0) else [(-7, 0), (1, 0)]
            for x0, _ in rects:
                rect = skia.Rect(x0, 0, x0 + width, length)
                canvas.drawRoundRect(
                    rect,
                    1,
                    1,
                    metal_linear(applied, (x0, 0), (x0 + width, 0))
                    if face.dial_texture != "plain" or style == "batons"
                    else fill(ink),
                )
                canvas.drawRoundRect(rect, 1, 1, stroke((0, 0, 0), 0.5, 0.4))
        canvas.restore()


def _draw_numerals(canvas: skia.Canvas, face: FaceSpec, outline) -> None:
    style = face.numerals
    if style == "none":
        return
    cardinal_only = style.endswith("_cardinal")
    full = not cardinal_only
    size = 18.0 if full else 24.0
    if face.body.dial_shape == "rectangle":
        size *= 0.8
    text_font = font(face.numeral_font, size)
    inset = _marker_inset(face) + (22 if face.index_style not in ("none",) else 12)
    for hour in range(12):
        if cardinal_only and hour % 3:
            continue
        if _skip_hour(face, hour):
            continue
        label = ROMAN[hour] if style.startswith("roman") else str(hour or 12)
        _centred_text(
            canvas,
            label,
            text_font,
            face.ink,
            outline.point(30.0 * hour, inset),
            _numeral_angle(face, hour),
        )
    if style == "arabic_24h":
        small = font("sans", 8.0)
        for hour in range(12):
            if _skip_hour(face, hour):
                continue
            _centred_text(
                canvas,
                str(hour + 12 if hour else 24),
                small,
                face.accent,
                outline.point(30.0 * hour, inset + 17),
                0.0,
            )


def _numeral_angle(face: FaceSpec, hour: int) -> float:
    """Radial numerals follow the dial, but never upside down, and only Roman ones: a turned arabic 6 reads as 9."""
    if not (face.numerals_radial and face.numerals.startswith("roman")):
        return 0.0
    angle = 30.0 * hour
    return angle - 180.0 if 90.0 < angle < 270.0 else angle


def _centred_text(canvas: skia.Canvas, text: str, text_font: skia.Font, rgb, point, angle: float) -> None:
    width = text_font.measureText(text)
    cap = text_font.getMetrics().fCapHeight or text_font.getSize() * 0.7
    canvas.save()
    canvas.translate(*point)
    if angle:
        canvas.rotate(angle)
    canvas.drawString(text, -width / 2, cap / 2, text_font, fill(rgb))
    canvas.restore()


def _draw_subdial(canvas: skia.Canvas, face: FaceSpec, angle: float) -> None:
    t = math.radians(angle)
    cx, cy = SUBDIAL_DISTANCE * math.sin(t), -SUBDIAL_DISTANCE * math.cos(t)
    base = face.dial_colour
    tone = mix(base, (0, 0, 0) if sum(base) > 380 else (255, 255, 255), 0.12)
    canvas.drawCircle(cx, cy, SUBDIAL_RADIUS, fill(tone))
    for radius in range(4, int(SUBDIAL_RADIUS), 3):
        canvas.drawCircle(cx, cy, radius, stroke(mix(tone, (0, 0, 0), 0.2), 0.5, 0.5))
    canvas.drawCircle(cx, cy, SUBDIAL_RADIUS, stroke(face.ink, 1.0, 0.8))
    for k in range(12):
        a = math.radians(30 * k)
        r0 = SUBDIAL_RADIUS - (5 if k % 3 == 0 else 3)
        canvas.drawLine(
            cx + r0 * math.sin(a),
            cy - r0 * math.cos(a),
            cx + SUBDIAL_RADIUS * math.sin(a),
            cy - SUBDIAL_RADIUS * math.cos(a),
            stroke(face.ink, 1.0),
        )
    # A decorative reading that never changes; it is not part of the time label.
    rng = np.random.default_rng([face.scene_seed, int(angle)])
    hand_angle = float(rng.uniform(0, 360))
    canvas.save()
    canvas.translate(cx, cy)
    canvas.rotate(hand_angle)
    canvas.drawLine(0, 3, 0, -SUBDIAL_RADIUS + 4, stroke(face.accent if rng.random() < 0.5 else face.ink, 1.6))
    canvas.restore()
    canvas.drawCircle(cx, cy, 2.2, fill(face.ink))


def _draw_date_window(canvas: skia.Canvas, face: FaceSpec, outline) -> None:
    text_font = font("sans_bold", 10.0)
    width = text_font.measureText(face.date_text) + 6
    right = outline.radius_at(90) - _marker_inset(face) - 8
    rect = skia.Rect(right - width, -8, right, 8)
    canvas.drawRect(rect.makeOutset(1.5, 1.5), metal_linear("steel", (0, -10), (0, 10)))
    canvas.drawRect(rect, fill((250, 250, 246) if sum(face.dial_colour) > 200 else (20, 20, 22)))
    ink = (20, 20, 20) if sum(face.dial_colour) > 200 else (240, 240, 240)
    canvas.drawString(face.date_text, rect.left() + 3, 4, text_font, fill(ink))


def _draw_texts(canvas: skia.Canvas, face: FaceSpec, outline) -> None:
    r = outline.short_radius
    if face.brand:
        text_font = font("serif_bold" if face.numeral_font.startswith("serif") else "sans_bold", 11.0)
        _centred_text(canvas, face.brand, text_font, face.ink, (0, -0.42 * r), 0.0)
        if face.logo != "none":
            _draw_logo(canvas, face, 0, -0.42 * r - 14)
    if face.model_line and face.subdials not in (1, 3):
        _centred_text(canvas, face.model_line, font("sans", 6.5), face.ink, (0, 0.4 * r), 0.0)
    elif face.model_line:
        _centred_text(canvas, face.model_line, font("sans", 6.0), face.ink, (0, -0.28 * r), 0.0)


def _draw_logo(canvas: skia.Canvas, face: FaceSpec, x: float, y: float) -> None:
    paint = fill(face.ink)
    path = skia.Path()
    if face.logo == "crown":
        path.moveTo(x - 7, y + 4)
        for px, py in [(-7, -4), (-3.5, 0), (0, -5), (3.5, 0), (7, -4), (7, 4)]:
            path.lineTo(x + px, y + py)
        path.close()
    elif face.logo == "star":
        for k in range(10):
            radius = 6 if k % 2 == 0 else 2.5
            t = math.radians(36 * k)
            (path.moveTo if k == 0 else path.lineTo)(x + radius * math.sin(t), y - radius * math.cos(t))
        path.close()
    else:
        path.moveTo(x - 5, y - 5)
        path.lineTo(x + 5, y - 5)
        path.lineTo(x + 5, y)
        path.quadTo(x + 5, y + 4, x, y + 6)
        path.quadTo(x - 5, y + 4, x - 5, y)
        path.close()
    canvas.drawPath(path, paint)
