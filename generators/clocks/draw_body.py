"""Cases, bezels, crowns, lugs and whatever holds the watch (straps, bracelets, chains, bells, stands).

Everything is drawn in dial units (dial radius 100) under the face's camera transform.
"""

import math

import numpy as np
import skia

from .bodies import BodySpec
from .faces import FaceSpec
from .fonts import font
from .geometry import DIAL_SHAPES, Superellipse, regular_polygon, ring
from .paints import fill, linear, metal_linear, metal_sweep, radial, stroke
from .palette import METALS, mix

BEZEL_MARGIN = {
    "plain": 12,
    "fluted": 18,
    "diver": 26,
    "tachymeter": 26,
    "knurled": 16,
    "stepped": 20,
    "gems": 20,
    "screws": 20,
    "thick": 24,
    "thin": 8,
    "none": 6,
    "rays": 12,
    "station": 30,
}
STRAP_LENGTH = 600.0  # far enough to leave the image at any zoom


def dial_outline(body: BodySpec) -> Superellipse:
    return DIAL_SHAPES[body.dial_shape]


def case_outline(body: BodySpec) -> Superellipse:
    return dial_outline(body).grown(BEZEL_MARGIN[body.bezel])


def case_path(body: BodySpec) -> skia.Path:
    outline = case_outline(body)
    if body.case_shape == "octagon":
        return regular_polygon(8, outline.a / math.cos(math.radians(22.5)) + 4, 22.5)
    if body.case_shape == "hexagon":
        return regular_polygon(6, outline.a / math.cos(math.radians(30)) + 4, 0)
    return outline.path()


def body_extent(body: BodySpec) -> float:
    """Half the size the camera frames: the case, plus bows, bells and stands that belong in the picture."""
    outline = case_outline(body)
    extent = max(outline.a, outline.b)
    if body.holder == "chain":
        extent += 15
    elif body.holder in ("bells", "stand", "base"):
        extent += 30
    elif body.holder == "arch":
        extent *= 1.5
    return extent


def _strap_width(body: BodySpec) -> float:
    outline = case_outline(body)
    share = 0.8 if body.case_shape in ("rectangle", "tonneau", "oval", "rounded_square") else 0.58
    return 2 * outline.a * share


def draw_body_back(canvas: skia.Canvas, face: FaceSpec) -> None:
    """What sits behind the case: straps, lugs, chains, bells, stands, pendulum boxes."""
    body = face.body
    holder = body.holder
    if body.kind in ("wristwatch", "smartwatch"):
        _draw_strap(canvas, face)
        _draw_lugs(canvas, face)
    elif holder == "chain":
        _draw_pocket_bow(canvas, face)
    elif holder == "pendulum":
        _draw_pendulum_box(canvas, face)
    elif holder == "bells":
        _draw_bells(canvas, face)
    elif holder == "stand":
        _draw_stand(canvas, face)
    elif holder == "arch":
        _draw_arch(canvas, face)
    elif holder == "base":
        _draw_base(canvas, face)
    if body.bezel == "rays":
        _draw_rays(canvas, face)
    if body.bezel == "station":
        outline = case_outline(body)
        canvas.drawRect(skia.Rect(-14, -STRAP_LENGTH, 14, -outline.b + 10), metal_linear("steel", (-14, 0), (14, 0)))


def draw_case(canvas: skia.Canvas, face: FaceSpec) -> None:
    body = face.body
    outline = case_outline(body)
    path = case_path(body)
    metal = "black" if body.bezel == "station" else face.metal
    # A contact shadow gives the case thickness; stacked strokes look like a blur at a fraction of the cost.
    for width, alpha in ((7.0, 0.12), (4.0, 0.18), (1.5, 0.3)):
        canvas.drawPath(path, stroke((0, 0, 0), width, alpha))
    if body.kind in ("wristwatch", "smartwatch"):
        _draw_crown(canvas, face, outline)
    # Only the ring outside the dial shows (the bevel and the opaque dial cover the rest), and gradient fills
    # cost per pixel, so the case metal is drawn as that ring.
    visible = _visible_ring(path, body)
    if metal == "wood":
        canvas.drawPath(visible, metal_linear("wood", (-outline.a, -outline.b), (outline.a, outline.b)))
    else:
        canvas.drawPath(visible, metal_sweep(metal, face.light_angle))
    _draw_bezel(canvas, face, outline)


def _visible_ring(shape: skia.Path, body: BodySpec) -> skia.Path:
    """`shape` without what the dial bevel and the dial cover (a margin under the bevel, so no seam shows)."""
    return ring(shape, dial_outline(body).grown(1.5).path())


def _draw_strap(canvas: skia.Canvas, face: FaceSpec) -> None:
    body = face.body
    outline = case_outline(body)
    width = _strap_width(body)
    holder = body.holder
    start = outline.b * 0.75
    for sign in (-1, 1):
        near, far = start * sign, STRAP_LENGTH * sign
        taper = 0.86
        shape = skia.Path()
        shape.moveTo(-width / 2, near)
        shape.lineTo(width / 2, near)
        shape.lineTo(width / 2 * taper, far)
        shape.lineTo(-width / 2 * taper, far)
        shape.close()
        if holder in ("bracelet", "mesh"):
            canvas.drawPath(shape, metal_linear(face.metal, (-width / 2, 0), (width / 2, 0)))
        else:
            base = face.strap_colour
            canvas.drawPath(
                shape,
                linear(
                    (-width / 2, 0),
                    (width / 2, 0),
                    [
                        mix(base, (0, 0, 0), 0.45),
                        base,
                        mix(base, (255, 255, 255), 0.12),
                        base,
                        mix(base, (0, 0, 0), 0.45),
                    ],
                ),
            )
        canvas.save()
        canvas.clipPath(shape, doAntiAlias=True)
        if holder == "bracelet":
            _bracelet_links(canvas, face, width, near, far, sign)
        elif holder == "mesh":
            dark = stroke((0, 0, 0), 0.8, 0.25)
            for k in range(-120, 120):
                x = k * 4.0
                canvas.drawLine(x, near, x + (far - near), far, dark)
        elif holder == "leather":
            stitch = stroke(mix(face.strap_colour, (255, 255, 255), 0.5), 1.6, 0.8)
            stitch.setPathEffect(skia.DashPathEffect.Make([6, 4], 0))
            for x in (-width / 2 + 6, width / 2 - 6):
                canvas.drawLine(x, near, x * taper, far, stitch)
            if sign > 0:
                for k in range(6):
                    canvas.drawCircle(0, near + 130 + 22 * k, 3.5, fill((0, 0, 0), 0.6))
        elif holder == "rubber":
            groove = stroke(mix(face.strap_colour, (0, 0, 0), 0.5), 2.0, 0.6)
            y = near + 16 * sign
            while abs(y) < STRAP_LENGTH:
                canvas.drawLine(-width / 2 + 10, y, width / 2 - 10, y, groove)
                y += 18 * sign
        elif holder == "nato":
            stripe = fill(mix(face.accent, face.strap_colour, 0.3), 0.9)
            for x in (-width * 0.22, width * 0.14):
                canvas.drawRect(skia.Rect(x, min(near, far), x + width * 0.08, max(near, far)), stripe)
        canvas.restore()


def _bracelet_links(canvas: skia.Canvas, face: FaceSpec, width: float, near: float, far: float, sign: int) -> None:
    light, base, dark = METALS[face.metal]
    edge = stroke(dark, 1.2, 0.8)
    y, step = near, 24.0
    centre = width * 0.36
    while abs(y) < abs(far):
        y2 = y + step * sign
        top, bottom = min(y, y2), max(y, y2)
        canvas.drawRect(skia.Rect(-width / 2, top, width / 2, bottom), edge)
        canvas.drawRoundRect(
            skia.Rect(-centre / 2, top + 1, centre / 2, bottom - 1),
            3,
            3,
            linear((0, top), (0, bottom), [light, base, dark]),
        )
        y = y2


def _draw_lugs(canvas: skia.Canvas, face: FaceSpec) -> None:
    body = face.body
    outline = case_outline(body)
    width = _strap_width(body)
    if body.lugs == "integrated":
        for sign in (-1, 1):
            path = skia.Path()
            path.moveTo(-outline.a * 0.85, sign * outline.b * 0.5)
            path.lineTo(outline.a * 0.85, sign * outline.b * 0.5)
            path.lineTo(width / 2 + 4, sign * (outline.b + 22))
            path.lineTo(-width / 2 - 4, sign * (outline.b + 22))
            path.close()
            canvas.drawPath(path, metal_linear(face.metal, (-outline.a, 0), (outline.a, 0)))
        return
    lug_width = 4.0 if body.lugs == "wire" else 13.0
    for sx in (-1, 1):
        for sy in (-1, 1):
            x0 = sx * (width / 2)
            x1 = sx * (width / 2 + lug_width)
            y0, y1 = sy * outline.b * 0.55, sy * (outline.b + 34)
            path = skia.Path()
            if body.lugs == "curved":
                path.moveTo(x0, y0)
                path.quadTo(x1 + sx * 10, (y0 + y1) / 2, x1, y1)
                path.lineTo(x0, y1)
                path.close()
            else:
                path.addRoundRect(skia.Rect(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), 3, 3)
            canvas.drawPath(path, metal_linear(face.metal, (min(x0, x1), 0), (max(x0, x1), 0)))


def _crown_at(canvas: skia.Canvas, face: FaceSpec, x: float, angle: float, size: float) -> None:
    canvas.save()
    canvas.rotate(angle - 90)
    light, base, dark = METALS[face.metal]
    canvas.drawRect(skia.Rect(x - 6, -size * 0.35, x + 6, size * 0.35), fill(dark))
    rect = skia.Rect(x + 4, -size / 2, x + 4 + size * 0.7, size / 2)
    canvas.drawRoundRect(rect, 3, 3, linear((0, -size / 2), (0, size / 2), [dark, light, base, dark]))
    grip = stroke(dark, 1.0, 0.7)
    for k in range(1, 8):
        y = -size / 2 + size * k / 8
        canvas.drawLine(rect.left(), y, rect.right(), y, grip)
    canvas.restore()


def _draw_crown(canvas: skia.Canvas, face: FaceSpec, outline: Superellipse) -> None:
    body = face.body
    x = outline.radius_at(90) - 2
    size = {"onion": 30.0, "round": 20.0, "guarded": 22.0, "double": 18.0}.get(body.crown, 20.0)
    if body.crown == "double":
        _crown_at(canvas, face, outline.radius_at(60) - 2, 60, size)
        _crown_at(canvas, face, outline.radius_at(120) - 2, 120, size)
    else:
        _crown_at(canvas, face, x, 90, size)
    if body.crown == "guarded":
        guard = skia.Path()
        guard.moveTo(x - 4, -26)
        guard.quadTo(x + 14, -20, x + 16, -12)
        guard.lineTo(x + 16, 12)
        guard.quadTo(x + 14, 20, x - 4, 26)
        guard.close()
        guard = skia.Op(guard, skia.Path().addRect(skia.Rect(x, -12, x + 40, 12)), skia.PathOp.kDifference_PathOp)
        canvas.drawPath(guard, metal_linear(face.metal, (x, -26), (x, 26)))
    if body.pushers:
        for angle in (60, 120):
            canvas.save()
            canvas.rotate(angle - 90)
            px = outline.radius_at(angle) - 4
            canvas.drawRoundRect(skia.Rect(px, -6, px + 14, 6), 2, 2, metal_linear(face.metal, (0, -6), (0, 6)))
            canvas.restore()


def _ring(outer: Superellipse, inner: Superellipse) -> skia.Path:
    return ring(outer.path(), inner.path())


def _draw_bezel(canvas: skia.Canvas, face: FaceSpec, outline: Superellipse) -> None:
    body = face.body
    dial = dial_outline(body)
    light, base, dark = METALS["black" if body.bezel == "station" else face.metal]
    bezel = body.bezel
    rng = np.random.default_rng(face.scene_seed + 1)
    if bezel in ("diver", "tachymeter"):
        insert_colour = [(18, 18, 22), (20, 40, 100), (120, 20, 24), (20, 70, 40), (24, 24, 26)][int(rng.integers(5))]
        inner, outer = dial.grown(3), outline.grown(-5)
        canvas.drawPath(
            _ring(outer, inner), radial((0, 0), outer.a, [insert_colour, mix(insert_colour, (0, 0, 0), 0.4)])
        )
        ink = stroke((236, 236, 230), 1.6)
        text_font = font("sans_bold", 9.0 if bezel == "diver" else 6.0)
        for k in range(60):
            angle = 6.0 * k
            if bezel == "diver" and k > 15 and k % 5:
                continue
            length = 8.0 if k % 5 == 0 else 4.0
            p0 = outer.point(angle, 2)
            p1 = outer.point(angle, 2 + length)
            canvas.drawLine(*p0, *p1, ink)
        if bezel == "diver":
            labels = [(60.0 * k, str(10 * k)) for k in range(1, 6)]  # elapsed minutes 10-50
        else:
            labels = [(30.0 * k, str(round(3600 / (5 * k)))) for k in range(1, 12)]  # speed over 5-55 seconds
        for angle, label in labels:
            _text_at(canvas, label, text_font, (236, 236, 230), outer.point(angle, 16), angle)
        if bezel == "diver":
            tri = skia.Path()
            x, y = outer.point(0, 3)
            tri.moveTo(x - 6, y)
            tri.lineTo(x + 6, y)
            tri.lineTo(x, y + 10)
            tri.close()
            canvas.drawPath(tri, fill((240, 240, 235)))
    elif bezel == "fluted":
        for k in range(72):
            angle = 5.0 * k
            p0, p1 = outline.point(angle, 2), outline.point(angle, BEZEL_MARGIN["fluted"] - 2)
            canvas.drawLine(*p0, *p1, stroke(dark if k % 2 else light, 2.6, 0.7))
    elif bezel == "knurled":
        for k in range(120):
            p0, p1 = outline.point(3.0 * k, 0.5), outline.point(3.0 * k, 5)
            canvas.drawLine(*p0, *p1, stroke(dark, 1.2, 0.7))
    elif bezel == "stepped":
        canvas.drawPath(_visible_ring(outline.grown(-8).path(), body), metal_sweep(face.metal, face.light_angle + 90))
    elif bezel == "gems":
        mid = dial.grown(BEZEL_MARGIN["gems"] / 2 + 1)
        for k in range(36):
            x, y = mid.point(10.0 * k)
            canvas.drawCircle(x, y, 3.8, radial((x - 1, y - 1), 4.5, [(255, 255, 255), (170, 190, 220)]))
    elif bezel == "screws":
        mid = dial.grown(BEZEL_MARGIN["screws"] / 2 + 1)
        for k in range(8):
            x, y = mid.point(45.0 * k + 22.5)
            canvas.drawCircle(x, y, 4.0, fill(base))
            canvas.drawCircle(x, y, 4.0, stroke(dark, 1.0))
            canvas.drawLine(x - 3, y - 1, x + 3, y + 1, stroke(dark, 1.2))
    elif bezel == "station":
        step = _visible_ring(outline.grown(-BEZEL_MARGIN["station"] + 5).path(), body)
        canvas.drawPath(step, metal_sweep("steel", face.light_angle))
    # The bevel where the dial meets the case: dark on the far side, bright on the near side. A ring: the dial
    # covers its inside (it reaches one unit under the dial, behind the dial's antialiased edge).
    canvas.drawPath(
        _ring(dial.grown(2.5), dial.grown(-1)),
        metal_linear(face.metal if bezel != "station" else "steel", (-dial.a, -dial.b), (dial.a, dial.b)),
    )


def _text_at(canvas: skia.Canvas, text: str, text_font: skia.Font, rgb, point, angle: float) -> None:
    """Text centred on a point, rotated so it reads along the ring."""
    width = text_font.measureText(text)
    cap = text_font.getMetrics().fCapHeight or text_font.getSize() * 0.7
    canvas.save()
    canvas.translate(*point)
    canvas.rotate(angle)
    canvas.drawString(text, -width / 2, cap / 2, text_font, fill(rgb))
    canvas.restore()


def _draw_pocket_bow(canvas: skia.Canvas, face: FaceSpec) -> None:
    outline = case_outline(face.body)
    light, base, dark = METALS[face.metal]
    top = -outline.b
    # Chain: oval links along a curve leaving the picture.
    start, c1, c2, end = (0, top - 70), (60, top - 140), (200, top - 60), (420, top - 200)
    link = stroke(base, 3.0)
    edge = stroke(dark, 5.0)
    for k in range(40):
        t = k / 39
        x = (1 - t) ** 3 * start[0] + 3 * (1 - t) ** 2 * t * c1[0] + 3 * (1 - t) * t**2 * c2[0] + t**3 * end[0]
        y = (1 - t) ** 3 * start[1] + 3 * (1 - t) ** 2 * t * c1[1] + 3 * (1 - t) * t**2 * c2[1] + t**3 * end[1]
        rect = skia.Rect(x - 7, y - 4, x + 7, y + 4) if k % 2 else skia.Rect(x - 4, y - 2, x + 4, y + 2)
        canvas.drawOval(rect, edge)
        canvas.drawOval(rect, link)
    canvas.drawCircle(0, top - 44, 24, stroke(dark, 8.0))
    canvas.drawCircle(0, top - 44, 24, stroke(base, 5.0))
    canvas.drawRect(skia.Rect(-7, top - 20, 7, top + 4), metal_linear(face.metal, (-7, 0), (7, 0)))
    canvas.drawRoundRect(skia.Rect(-13, top - 30, 13, top - 14), 4, 4, metal_linear(face.metal, (-13, 0), (13, 0)))


def _draw_pendulum_box(canvas: skia.Canvas, face: FaceSpec) -> None:
    outline = case_outline(face.body)
    box = skia.Rect(-outline.a - 16, -outline.b - 16, outline.a + 16, 440)
    canvas.drawRoundRect(box, 10, 10, metal_linear("wood", (box.left(), 0), (box.right(), 0)))
    window = skia.Rect(-outline.a * 0.6, outline.b + 20, outline.a * 0.6, 420)
    canvas.drawRect(window, fill((30, 20, 14)))
    canvas.drawRect(skia.Rect(-3, outline.b, 3, 330), fill((200, 170, 90)))
    canvas.drawCircle(0, 330, 34, radial((-10, 320), 40, [(255, 230, 150), (170, 120, 40)]))


def _draw_bells(canvas: skia.Canvas, face: FaceSpec) -> None:
    outline = case_outline(face.body)
    light, base, dark = METALS[face.metal if face.metal != "wood" else "steel"]
    for angle in (-140, 140):
        x, y = outline.point(angle, -10)
        canvas.drawLine(0, 0, x * 1.05, y * 1.05, stroke(dark, 9.0, cap=skia.Paint.kRound_Cap))
    canvas.drawRect(skia.Rect(-4, -outline.b - 40, 4, -outline.b), fill(dark))
    for angle in (-38, 38):
        x, y = outline.point(angle, -22)
        canvas.drawCircle(x, y, 44, radial((x - 14, y - 16), 60, [light, base, dark]))
        canvas.drawCircle(x, y - 46, 6, fill(dark))
    arc = skia.Path()
    arc.addArc(skia.Rect(-70, -outline.b - 70, 70, -outline.b + 40), 200, 140)
    canvas.drawPath(arc, stroke(base, 7.0, cap=skia.Paint.kRound_Cap))


def _draw_stand(canvas: skia.Canvas, face: FaceSpec) -> None:
    outline = case_outline(face.body)
    light, base, dark = METALS[face.metal if face.metal != "wood" else "steel"]
    for angle in (-145, 145):
        x, y = outline.point(angle, -22)
        canvas.drawLine(x * 0.7, y * 0.7, x, y, stroke(dark, 10.0, cap=skia.Paint.kRound_Cap))
    arc = skia.Path()
    arc.addArc(skia.Rect(-50, -outline.b - 34, 50, -outline.b + 30), 190, 160)
    canvas.drawPath(arc, stroke(base, 6.0, cap=skia.Paint.kRound_Cap))


def _draw_arch(canvas: skia.Canvas, face: FaceSpec) -> None:
    outline = case_outline(face.body)
    a, b = outline.a, outline.b
    path = skia.Path()
    path.moveTo(-2.0 * a, b + 20)
    path.lineTo(-2.0 * a, b * 0.45)
    path.cubicTo(-1.5 * a, b * 0.1, -1.2 * a, -1.3 * b, 0, -1.3 * b)
    path.cubicTo(1.2 * a, -1.3 * b, 1.5 * a, b * 0.1, 2.0 * a, b * 0.45)
    path.lineTo(2.0 * a, b + 20)
    path.close()
    canvas.drawPath(path, metal_linear("wood", (-2 * a, -b), (2 * a, b)))
    canvas.drawRect(skia.Rect(-2.1 * a, b + 14, 2.1 * a, b + 34), metal_linear(face.metal, (0, b + 14), (0, b + 34)))


def _draw_base(canvas: skia.Canvas, face: FaceSpec) -> None:
    outline = case_outline(face.body)
    a, b = outline.a, outline.b
    canvas.drawRect(skia.Rect(-0.5 * a, b - 20, 0.5 * a, b + 30), metal_linear(face.metal, (-0.5 * a, 0), (0.5 * a, 0)))
    canvas.drawRoundRect(skia.Rect(-1.0 * a, b + 24, 1.0 * a, b + 44), 6, 6, metal_linear(face.metal, (-a, 0), (a, 0)))


def _draw_rays(canvas: skia.Canvas, face: FaceSpec) -> None:
    outline = case_outline(face.body)
    paint = metal_sweep(face.metal if face.metal != "wood" else "gold", face.light_angle)
    for k in range(24):
        length = outline.a * (1.6 if k % 2 else 1.35)
        canvas.save()
        canvas.rotate(15.0 * k)
        ray = skia.Path()
        ray.moveTo(-5, 0)
        ray.lineTo(0, -length)
        ray.lineTo(5, 0)
        ray.close()
        canvas.drawPath(ray, paint)
        canvas.drawCircle(0, -length, 5, paint)
        canvas.restore()
