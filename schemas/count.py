"""PixMo-Count rows: how many of the most frequent detected class, with a point per object."""

from typing import Any

import pyarrow as pa

from schemas.common import POINTS_XY, check_image, check_percent_points, check_row, make_schema

SCHEMA_VERSION = "0.1.0"

BOX = pa.struct([pa.field(name, pa.float64()) for name in ("x0", "y0", "x1", "y1")])

SCHEMA = make_schema(
    [
        # Published pixmo-count columns.
        pa.field("image_url", pa.string()),
        pa.field("count", pa.int64()),
        pa.field("label", pa.string()),
        pa.field("points", POINTS_XY),
        # Ours: what the detector saw, Molmo-style QA, and whether a person checked it.
        pa.field("boxes", pa.list_(BOX)),
        pa.field("scores", pa.list_(pa.float64())),
        pa.field("question", pa.string()),
        pa.field("answer", pa.string()),
        pa.field("answer_count_only", pa.string()),
        pa.field("verified", pa.bool_()),
    ],
    SCHEMA_VERSION,
)


def validate(row: dict[str, Any]) -> list[str]:
    problems = check_row(row, SCHEMA)
    if problems:
        return problems
    problems += check_image(row)
    xs, ys = row["points"]["x"], row["points"]["y"]
    problems += check_percent_points(xs, ys, "points")
    if row["count"] != len(xs):
        problems.append(f"count {row['count']} but {len(xs)} points")
    if row["count"] < 0:
        problems.append("count is negative")
    if not row["label"].strip():
        problems.append("label is empty")
    return problems
