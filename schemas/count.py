"""PixMo-Count rows: how many of the most frequent detected class, with a point per object."""

from typing import Any

import pyarrow as pa

from formatting.points import point_count_answer
from schemas.common import POINTS_XY, check_image, check_percent_points, check_row, make_schema

SCHEMA_VERSION = "0.3.0"

BOX = pa.struct([pa.field(name, pa.float64()) for name in ("x0", "y0", "x1", "y1")])

SCHEMA = make_schema(
    [
        # Published pixmo-count columns (points in percent of width/height, as Molmo reads them).
        pa.field("image_url", pa.string()),
        pa.field("count", pa.int64()),
        pa.field("label", pa.string()),  # as it reads in the question: plural ("people")
        pa.field("points", POINTS_XY),
        # Ours: what the detector saw, Molmo-style QA, and whether a person checked it.
        pa.field("width", pa.int64()),
        pa.field("height", pa.int64()),
        pa.field("detector", pa.string()),
        pa.field("detector_class", pa.string()),  # the counted class, singular ("person")
        pa.field("boxes", pa.list_(BOX)),  # pixels, in the order of the points
        pa.field("scores", pa.list_(pa.float64())),
        pa.field("question", pa.string()),
        pa.field("answer", pa.string()),
        pa.field("question_count_only", pa.string()),
        pa.field("answer_count_only", pa.string()),
        pa.field("verified", pa.bool_()),
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
    xs, ys = row["points"]["x"], row["points"]["y"]
    problems += check_percent_points(xs, ys, "points")
    if row["count"] != len(xs):
        problems.append(f"count {row['count']} but {len(xs)} points")
    if row["count"] < 0:
        problems.append("count is negative")
    # A person-fixed row has points but no boxes (they were the detector's); otherwise one box and score per point.
    person_points = row["verified"] and not row["boxes"] and not row["scores"]
    if not person_points and (len(row["boxes"]) != len(xs) or len(row["scores"]) != len(xs)):
        problems.append(f"{len(xs)} points but {len(row['boxes'])} boxes and {len(row['scores'])} scores")
    if not row["label"].strip():
        problems.append("label is empty")
    if row["width"] < 1 or row["height"] < 1:
        problems.append("image size is not positive")
    for i, box in enumerate(row["boxes"]):
        if not (0 <= box["x0"] <= box["x1"] <= row["width"] and 0 <= box["y0"] <= box["y1"] <= row["height"]):
            problems.append(f"boxes[{i}] is outside the image or inverted")
    if not problems and row["answer"] != point_count_answer(row["points"], row["label"]):
        problems.append("answer does not match the points and label")
    if row["answer_count_only"] != str(row["count"]):
        problems.append("answer_count_only does not match the count")
    return problems
