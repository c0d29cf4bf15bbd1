"""Shapes in dial units (dial centre at 0,0, y down, a round dial has radius 100); the camera homography."""

import math
from dataclasses import dataclass

import numpy as np
import skia

from .faces import Camera

DIAL_RADIUS = 100.0


@dataclass(frozen=True)
class Superellipse:
    """|x/a|^n + |y/b|^n = 1: circles (n=2), cushions (n=4) and rounded squares (n>=6) in one formula."""

    a: float
    b: float
    n: float

    def radius_at(self, angle_deg: float) -> float:
        """Distance from the centre to the outline along a direction given clockwise from 12."""
        t = math.radians(angle_deg)
        dx, dy = abs(math.sin(t)), abs(math.cos(t))
        return 1.0 / ((dx / self.a) ** self.n + (dy / self.b) ** self.n) ** (1.0 / self.n)

    def point(self, angle_deg: float, inset: float = 0.0) -> tuple[float, float]:
        r = self.radius_at(angle_deg) - inset
        t = math.radians(angle_deg)
        return r * math.sin(t), -r * math.cos(t)

    def grown(self, margin: float) -> "Superellipse":
        return Superellipse(self.a + margin, self.b + margin, self.n)

    @property
    def short_radius(self) -> float:
        return min(self.a, self.b)

    def path(self, steps: int = 144) -> skia.Path:
        if self.n == 2:
            return skia.Path().addOval(skia.Rect(-self.a, -self.b, self.a, self.b))
        t = np.linspace(0, 2 * np.pi, steps, endpoint=False)
        c, s = np.cos(t), np.sin(t)
        xs = self.a * np.sign(c) * np.abs(c) ** (2 / self.n)
        ys = self.b * np.sign(s) * np.abs(s) ** (2 / self.n)
        return polygon(list(zip(xs.tolist(), ys.tolist(), strict=True)))


DIAL_SHAPES = {
    "round": Superellipse(100, 100, 2),
    "square": Superellipse(100, 100, 9),
    "rounded_square": Superellipse(100, 100, 5),
    "rectangle": Superellipse(78, 104, 9),
    "cushion": Superellipse(100, 100, 4),
    "tonneau": Superellipse(86, 104, 4),
    "oval": Superellipse(80, 102, 2),
}


def polygon(points: list[tuple[float, float]]) -> skia.Path:
    path = skia.Path()
    path.moveTo(*points[0])
    for p in points[1:]:
        path.lineTo(*p)
    path.close()
    return path


def ring(outer: skia.Path, inner: skia.Path) -> skia.Path:
    """The band between two nested outlines, by the even-odd rule (path ops on 144-point outlines cost ms)."""
    band = skia.Path(outer)
    band.addPath(inner)
    band.setFillType(skia.PathFillType.kEvenOdd)
    return band


def regular_polygon(sides: int, radius: float, rotation_deg: float = 0.0) -> skia.Path:
    points = []
    for i in range(sides):
        t = math.radians(rotation_deg + 360.0 * i / sides)
        points.append((radius * math.sin(t), -radius * math.cos(t)))
    return polygon(points)


def camera_matrix(camera: Camera, image_size: int, extent: float) -> skia.Matrix:
    """Homography from dial units to pixels: a pinhole camera looking at the tilted, rotated watch plane."""
    pixels_per_unit = camera.fill * image_size / (2.0 * extent)
    distance = camera.distance * DIAL_RADIUS
    focal = pixels_per_unit * distance
    rx, ry, rz = (math.radians(v) for v in (camera.tilt_x, camera.tilt_y, camera.rotation))
    rot_x = np.array([[1, 0, 0], [0, math.cos(rx), -math.sin(rx)], [0, math.sin(rx), math.cos(rx)]])
    rot_y = np.array([[math.cos(ry), 0, math.sin(ry)], [0, 1, 0], [-math.sin(ry), 0, math.cos(ry)]])
    rot_z = np.array([[math.cos(rz), -math.sin(rz), 0], [math.sin(rz), math.cos(rz), 0], [0, 0, 1]])
    r = rot_z @ rot_y @ rot_x
    cx = image_size * (0.5 + camera.offset_x)
    cy = image_size * (0.5 + camera.offset_y)
    k = np.array([[focal, 0, cx], [0, focal, cy], [0, 0, 1]])
    h = k @ np.column_stack([r[:, 0], r[:, 1], [0, 0, distance]])
    h = h / h[2, 2]
    return skia.Matrix.MakeAll(*[float(v) for v in h.reshape(-1)])
