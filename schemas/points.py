"""PixMo-Points rows: a referring expression and a click on every instance (or "not present")."""

from typing import Any

import pyarrow as pa

from schemas.common import POINT, check_image, check_percent_points, check_row, make_schema

SCHEMA_VERSION = "0.2.0"

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
        # Ours: the annotation behind the row.
        pa.field("not_present", pa.bool_()),  # the annotator said nothing matches (count 0, no points)
        pa.field("record_id", pa.string()),  # the annotation app's id; example_id derives from it
        pa.field("annotator", pa.string()),
        pa.field("created_at", pa.string()),  # ISO 8601 UTC, as exported
        pa.field("width", pa.int64()),
        pa.field("height", pa.int64()),
    ],
    SCHEMA_VERSION,
)


def build_row(**values: Any) -> dict[str, Any]:
    """A row with every column, in schema order (missing columns are a bug: KeyError)."""
    return {name: values[name] for name in SCHEMA.names}


def validate(row: dict[str, Any]) -> list[str]:
    problems = check_row(row, SCHEMA)
    if problems:
        return problems
    problems += check_image(row)
    points = row["points"]
    problems += check_percent_points([p["x"] for p in points], [p["y"] for p in points], "points")
    if row["count"] != len(points):
        problems.append(f"count {row['count']} but {len(points)} points")
    if row["not_present"] and points:
        problems.append("not_present but has points")
    if not row["not_present"] and not points and row["collection_method"] == "pointing":
        problems.append("no points but not marked not_present")
    if not row["label"].strip():
        problems.append("label is empty")
    if row["collection_method"] not in COLLECTION_METHODS:
        problems.append(f"collection_method must be one of {COLLECTION_METHODS}")
    if row["width"] < 1 or row["height"] < 1:
        problems.append(f"image size {row['width']}x{row['height']} is not positive")
    return problems
