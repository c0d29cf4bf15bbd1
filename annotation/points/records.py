"""What makes a PointsRecord usable as a pixmo-points row; every problem in words (a dead letter's reason)."""

import math

from annotation.exports import PointsRecord


def points_problems(record: PointsRecord) -> list[str]:
    """Why this record cannot become a row (empty when it can)."""
    problems = []
    if not record.record_id.strip():
        problems.append("empty record_id")
    if not record.image.strip():
        problems.append("no image")
    if not record.label.strip():
        problems.append("empty label")
    if not isinstance(record.not_present, bool):
        problems.append(f"not_present must be true or false, got {record.not_present!r}")
    for i, point in enumerate(record.points):
        x, y = point.x, point.y
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (x, y)):
            problems.append(f"point {i}: x and y must be numbers, got ({x!r}, {y!r})")
        elif not all(math.isfinite(v) and 0.0 <= v <= 100.0 for v in (x, y)):
            problems.append(f"point {i} = ({x}, {y}) is outside 0-100 (points are percent of width/height)")
    if record.not_present is True and record.points:
        problems.append(f"marked not present but has {len(record.points)} points")
    if record.not_present is False and not record.points:
        problems.append("no points, and not marked not present")
    return problems
