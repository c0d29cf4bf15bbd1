"""Points as Molmo writes them: `<point>`/`<points>` tags in percent of the image, sorted left to right.

The Count and Points pipelines call these to build answer texts; the trainer calls them to build targets,
so both sides agree on one spelling.
"""

from collections.abc import Iterable, Sequence

Point = tuple[float, float]


def as_point_list(points: object) -> list[Point]:
    """Accept the shapes points come in: pixmo-count's {"x": [...], "y": [...]}, pixmo-points'
    [{"x": .., "y": ..}, ...], or plain (x, y) pairs."""
    if points is None:
        return []
    if isinstance(points, dict):
        xs, ys = points.get("x") or [], points.get("y") or []
        if len(xs) != len(ys):
            raise ValueError(f"points have {len(xs)} x but {len(ys)} y values")
        return [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]
    out = []
    for p in points:  # type: ignore[union-attr]
        if isinstance(p, dict):
            out.append((float(p["x"]), float(p["y"])))
        else:
            x, y = p
            out.append((float(x), float(y)))
    return out


def _sorted_rounded(points: Iterable[Point]) -> list[Point]:
    # Round first, then sort: two points equal after rounding keep a stable, reproducible order.
    rounded = [(round(x, 1), round(y, 1)) for x, y in points]
    rounded.sort(key=lambda p: (p[0], p[1]))
    return rounded


def points_to_text(points: Sequence[Point], label: str, alt: str | None = None) -> str:
    """`<point x="10.0" y="20.0" alt="cup">cup</point>` for one point, `<points x1=.. y1=.. ...>` for more.

    Coordinates are percent of width/height (0-100) with one decimal, sorted left to right.
    """
    if not points:
        raise ValueError("points_to_text needs at least one point; use no_points_text() for none")
    alt = label if alt is None else alt
    pts = _sorted_rounded(points)
    if len(pts) == 1:
        x, y = pts[0]
        return f'<point x="{x:.1f}" y="{y:.1f}" alt="{alt}">{label}</point>'
    coords = " ".join(f'x{i}="{x:.1f}" y{i}="{y:.1f}"' for i, (x, y) in enumerate(pts, start=1))
    return f'<points {coords} alt="{alt}">{label}</points>'


NO_POINTS_TEXT = "There are none."


def pointing_answer(points: object, label: str) -> str:
    """The `pointing` style answer: just the points, or the Molmo refusal when there are none."""
    pts = as_point_list(points)
    return points_to_text(pts, label.lower()) if pts else NO_POINTS_TEXT


def point_count_answer(points: object, label: str) -> str:
    """The `point_count` style answer: `Counting the <points ...>cups</points> shows a total of 3.`"""
    pts = as_point_list(points)
    if not pts:
        return NO_POINTS_TEXT
    return f"Counting the {points_to_text(pts, label.lower())} shows a total of {len(pts)}."
