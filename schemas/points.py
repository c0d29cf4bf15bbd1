"""PixMo-Points rows: a referring expression and a click on every instance (or "not present")."""

from typing import Any

import pyarrow as pa

from schemas.common import POINT, check_image, check_percent_points, check_row, make_schema

SCHEMA_VERSION = "0.1.0"

COLLECTION_METHODS = ("pointing", "counting")

SCHEMA = make_schema(
    [
        # Published pixmo-points columns.
        pa.field("image_url", pa.string()),
        pa.field("points", pa.list_(POINT)),
        pa.field("count", pa.int64()),
        pa.field("label", pa.string()),
        pa.field("collection_method", pa.string()),
        # Ours: an optional point explanation (pixmo-point-explanations layout).
        pa.field("explanation", pa.string()),
    ],
    SCHEMA_VERSION,
)


def validate(row: dict[str, Any]) -> list[str]:
    problems = check_row(row, SCHEMA)
    if problems:
        return problems
    problems += check_image(row)
    points = row["points"]
    problems += check_percent_points([p["x"] for p in points], [p["y"] for p in points], "points")
    if row["count"] != len(points):
        problems.append(f"count {row['count']} but {len(points)} points")
    if not row["label"].strip():
        problems.append("label is empty")
    if row["collection_method"] not in COLLECTION_METHODS:
        problems.append(f"collection_method must be one of {COLLECTION_METHODS}")
    return problems
