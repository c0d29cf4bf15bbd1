"""Hand shapes, built once per face as skia paths pointing at 12, then rotated per sample.

A hand is a short list of (path, paint) layers, and the layers of its soft shadow (see shadows.py).
"""

import functools
import math
from dataclasses import dataclass, field

import skia

from .draw_body import dial_outline
from .faces import FaceSpec
from .paints import colour, fill, stroke
from .palette import LUME, METALS, mix
from .shadows import soft_shadow

RGB = tuple[int, int, int]
DEBUG_COLOURS = {"hour": (255, 0, 0), "minute": (0, 255, 0), "second": (0, 0, 255)}
# Hands float just above the dial: a shadow about as soft as a blur of sigma 1.3 dial units.
HAND_SHADOW_SPREAD, HAND_SHADOW_STEPS = 2.0, 3


@dataclass
class Hand:
    layers: list[tuple[skia.Path, skia.Paint]]
    silhouette: skia.Path
    shadow: list[tuple[skia.Path, skia.Paint]] = field(default_factory=list)


@dataclass
class HandSet:
    hour: Hand
    minute: Hand
    second: Hand | None
    alarm: Hand | None
    cap: list[tuple[skia.Path, skia.Paint]]


def _poly(points: list[tuple[float, float]]) -> skia.Path:
    path = skia.Path()
    path.moveTo(*points[0])
    for p in points[1:]:
        path.lineTo(*p)
    path.close()
    return path


def _union(*paths: skia.Path) -> skia.Path:
    out = skia.Path(paths[0])
    for p in paths[1:]:
        out = skia.Op(out, p, skia.PathOp.kUnion_PathOp)
    return out


@functools.lru_cache(maxsize=1024)
def hand_outline(style: str, length: float, width: float) -> tuple[skia.Path, skia.Path | None]:
    """The hand's outline pointing up (-y), and an optional inner path (lume plot or skeleton hole).

    Cached (faces repeat styles and dial sizes, and the path ops cost up to a millisecond): never mutate them."""
    L, w = length, width
    tail = 0.14 * L
    if style == "baton":
        return skia.Path().addRoundRect(skia.Rect(-w / 2, -L, w / 2, tail), w / 3, w / 3), skia.Path().addRect(
            skia.Rect(-w / 4, -L + w, w / 4, -0.25 * L)
        )
    if style == "sword":
        outline = _poly(
            [
                (-w * 0.3, tail),
                (-w * 0.6, -0.15 * L),
                (-w * 0.5, -0.75 * L),
                (0, -L),
                (w * 0.5, -0.75 * L),
                (w * 0.6, -0.15 * L),
                (w * 0.3, tail),
            ]
        )
        return outline, _poly(
            [
                (-w * 0.25, -0.2 * L),
                (-w * 0.25, -0.72 * L),
                (0, -0.88 * L),
                (w * 0.25, -0.72 * L),
                (w * 0.25, -0.2 * L),
            ]
        )
    if style == "arrow":
        shaft = skia.Path().addRect(skia.Rect(-w * 0.22, -0.72 * L, w * 0.22, tail))
        head = _poly([(-w * 0.9, -0.7 * L), (0, -L), (w * 0.9, -0.7 * L), (0, -0.78 * L)])
        return _union(shaft, head), None
    if style == "leaf":
        path = skia.Path()
        path.moveTo(0, tail)
        path.quadTo(-w * 1.1, -0.45 * L, 0, -L)
        path.quadTo(w * 1.1, -0.45 * L, 0, tail)
        path.close()
        return path, None
    if style == "dauphine":
        return _poly([(0, tail), (-w * 0.6, -0.05 * L), (0, -L), (w * 0.6, -0.05 * L)]), _poly(
            [(0, tail), (0, -L), (w * 0.6, -0.05 * L)]
        )
    if style == "skeleton":
        outline = _poly([(-w * 0.55, tail), (-w * 0.55, -0.8 * L), (0, -L), (w * 0.55, -0.8 * L), (w * 0.55, tail)])
        hole = _poly(
            [
                (-w * 0.2, -0.12 * L),
                (-w * 0.2, -0.78 * L),
                (0, -0.9 * L),
                (w * 0.2, -0.78 * L),
                (w * 0.2, -0.12 * L),
            ]
        )
        skeleton = skia.Path(outline)
        skeleton = skia.Op(skeleton, hole, skia.PathOp.kDifference_PathOp)
        return skeleton, None
    if style == "breguet":
        shaft = skia.Path().addRect(skia.Rect(-w * 0.18, -0.62 * L, w * 0.18, tail))
        ring = skia.Path().addCircle(0, -0.68 * L, w * 0.75)
        ring = skia.Op(ring, skia.Path().addCircle(0, -0.68 * L, w * 0.42), skia.PathOp.kDifference_PathOp)
        tip = _poly([(-w * 0.3, -0.74 * L), (0, -L), (w * 0.3, -0.74 * L)])
        return _union(shaft, ring, tip), None
    if style == "mercedes":
        shaft = skia.Path().addRect(skia.Rect(-w * 0.3, -0.82 * L, w * 0.3, tail))
        disc = skia.Path().addCircle(0, -0.62 * L, w * 0.95)
        tip = _poly([(-w * 0.5, -0.8 * L), (0, -L), (w * 0.5, -0.8 * L)])
        outline = _union(shaft, disc, tip)
        return outline, skia.Path().addCircle(0, -0.62 * L, w * 0.6)
    if style == "spade":
        shaft = skia.Path().addRect(skia.Rect(-w * 0.2, -0.6 * L, w * 0.2, tail))
        spade = skia.Path()
        spade.moveTo(0, -0.5 * L)
        spade.cubicTo(-w * 1.4, -0.62 * L, -w * 0.5, -0.85 * L, 0, -L)
        spade.cubicTo(w * 0.5, -0.85 * L, w * 1.4, -0.62 * L, 0, -0.5 * L)
        spade.close()
        return _union(shaft, spade), None
    if style == "pencil":
        return _poly([(-w * 0.4, tail), (-w * 0.4, -0.86 * L), (0, -L), (w * 0.4, -0.86 * L), (w * 0.4, tail)]), None
    if style == "syringe":
        shaft = skia.Path().addRect(skia.Rect(-w * 0.16, -L, w * 0.16, tail))
        barrel = skia.Path().addRect(skia.Rect(-w * 0.5, -0.8 * L, w * 0.5, -0.3 * L))
        return _union(shaft, barrel), skia.Path().addRect(skia.Rect(-w * 0.3, -0.76 * L, w * 0.3, -0.34 * L))
    if style == "alpha":
        return _poly([(-w * 0.2, tail), (-w * 0.55, -0.3 * L), (0, -L), (w * 0.55, -0.3 * L), (w * 0.2, tail)]), None
    raise ValueError(f"unknown hand style {style!r}")


def _main_hand(face: FaceSpec, style: str, length: float, width: float, debug_rgb: RGB | None) -> Hand:
    outline, inner = hand_outline(style, length, width)
    if debug_rgb is not None:
        return Hand([(outline, fill(debug_rgb, antialias=False))], outline)
    if face.hand_metal:
        # Faceted polish: one side catches the light, the other is in shade.
        light, base, dark = METALS[face.hand_metal]
        shader = skia.GradientShader.MakeLinear(
            [skia.Point(-width / 2, 0), skia.Point(width / 2, 0)],
            [colour(light), colour(base), colour(dark), colour(dark)],
            [0.0, 0.48, 0.52, 1.0],
        )
        return Hand([(outline, skia.Paint(AntiAlias=True, Shader=shader)), (outline, stroke(dark, 0.6))], outline)
    layers = [(outline, fill(face.hand_colour))]
    if inner is not None and style == "dauphine":
        layers.append((inner, fill(mix(face.hand_colour, (0, 0, 0), 0.35))))  # the faceted half in shade
    elif inner is not None and face.hand_lume:
        layers.append((inner, fill(LUME)))
    if face.hand_outline is not None:
        layers.append((outline, stroke(face.hand_outline, 0.8)))
    return Hand(layers, outline)


@functools.lru_cache(maxsize=256)
def _second_outline(style: str, length: float) -> skia.Path:
    parts = [skia.Path().addRect(skia.Rect(-0.8, -length, 0.8, 0.25 * length))]
    if style == "lollipop":
        parts.append(skia.Path().addCircle(0, -0.78 * length, 3.6))
    elif style == "arrow_tip":
        parts.append(_poly([(-3.2, -0.86 * length), (0, -length - 2), (3.2, -0.86 * length)]))
    elif style == "counterweight":
        parts.append(skia.Path().addCircle(0, 0.2 * length, 4.2))
    return _union(*parts)


@functools.lru_cache(maxsize=256)
def _alarm_outline(length: float) -> skia.Path:
    return _union(
        skia.Path().addRect(skia.Rect(-1.2, -0.8 * length, 1.2, 0.1 * length)),
        _poly([(-4.5, -0.78 * length), (0, -length), (4.5, -0.78 * length)]),
    )


def _second_hand(face: FaceSpec, length: float, debug_rgb: RGB | None) -> Hand:
    outline = _second_outline(face.second_hand_style, length)
    rgb = debug_rgb if debug_rgb is not None else face.second_colour
    return Hand([(outline, fill(rgb, antialias=debug_rgb is None))], outline)


def _alarm_hand(face: FaceSpec, length: float) -> Hand:
    outline = _alarm_outline(length)
    return Hand([(outline, fill(face.alarm_colour))], outline)


def build_hands(face: FaceSpec, debug_colours: bool, shadow_alpha: float = 0.0) -> HandSet:
    """The face's hands pointing at 12; with `shadow_alpha` > 0 each also gets its soft shadow's layers."""
    radius = dial_outline(face.body).short_radius
    hour_width = 9.0 if face.hand_style not in ("pencil", "alpha") else 7.5
    minute_length = 0.84 * radius
    # The hour hand stays clearly shorter, so people (and models) can tell the two apart.
    hour_length = 0.56 * radius
    hour = _main_hand(face, face.hand_style, hour_length, hour_width, DEBUG_COLOURS["hour"] if debug_colours else None)
    minute = _main_hand(
        face,
        face.hand_style,
        minute_length,
        hour_width * 0.72,
        DEBUG_COLOURS["minute"] if debug_colours else None,
    )
    second = None
    if face.has_second_hand:
        second = _second_hand(face, 0.92 * radius, DEBUG_COLOURS["second"] if debug_colours else None)
    alarm = _alarm_hand(face, 0.5 * radius) if face.has_alarm_hand else None
    cap_rgb = face.second_colour if face.has_second_hand else face.hand_colour
    cap = (
        []
        if debug_colours
        else [
            (skia.Path().addCircle(0, 0, 5.5), fill(face.hand_colour)),
            (skia.Path().addCircle(0, 0, 2.6), fill(mix(cap_rgb, (255, 255, 255), 0.2))),
        ]
    )
    if shadow_alpha > 0:
        for hand in (hour, minute, second, alarm):
            if hand is not None:
                hand.shadow = soft_shadow(hand.silhouette, HAND_SHADOW_SPREAD, HAND_SHADOW_STEPS, shadow_alpha)
    return HandSet(hour, minute, second, alarm, cap)


def shadow_offset(face: FaceSpec) -> tuple[float, float]:
    """Hands float above the dial; their shadows fall away from the light."""
    t = math.radians(face.light_angle)
    return -3.0 * math.sin(t), 3.0 * math.cos(t)
