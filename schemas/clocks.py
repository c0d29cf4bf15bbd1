"""PixMo-Clocks rows: a rendered watch face at a known time (allenai/pixmo-clocks columns, plus ours)."""

import math
from collections import defaultdict
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from formatting.clocks import CLOCKS_STYLE, clock_time_text, watch_time
from schemas.common import check_image, check_row, make_schema, sha256_hex

SCHEMA_VERSION = "1.0.0"

SCHEMA = make_schema(
    [
        # Published pixmo-clocks columns.
        pa.field("watchface_id", pa.string()),
        pa.field("watchface_name", pa.string()),
        pa.field("watch_time", pa.string()),  # 24 h HH:MM:SS
        pa.field("time_format", pa.string()),  # how `text` writes the time: "12h"
        pa.field("shows_seconds", pa.bool_()),
        pa.field("hour_visible", pa.bool_()),
        pa.field("minute_visible", pa.bool_()),
        pa.field("second_visible", pa.bool_()),
        pa.field("text", pa.string()),
        # Ours: the time as numbers, the hand angles (degrees clockwise from 12), the watch body, a QA pair.
        pa.field("hour", pa.int64()),
        pa.field("minute", pa.int64()),
        pa.field("second", pa.int64()),
        pa.field("hour_angle", pa.float64()),
        pa.field("minute_angle", pa.float64()),
        pa.field("second_angle", pa.float64()),
        pa.field("body_id", pa.int64()),
        pa.field("body_name", pa.string()),
        pa.field("face_features", pa.string()),  # JSON object of categorical descriptors
        pa.field("width", pa.int64()),
        pa.field("height", pa.int64()),
        pa.field("style", pa.string()),
        pa.field("question", pa.string()),
        pa.field("answer", pa.string()),
    ],
    SCHEMA_VERSION,
)


def expected_angles(hour: int, minute: int, second: int) -> tuple[float, float, float]:
    """Hand angles that show the time exactly: the hour hand moves with minutes, the minute hand with seconds."""
    return (
        30.0 * (hour % 12) + 0.5 * minute + second / 120.0,
        6.0 * minute + 0.1 * second,
        6.0 * second,
    )


def _angle_gap(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def build_row(
    *,
    example_id: str,
    image: dict[str, Any],
    image_sha256: str,
    source: str,
    watchface_id: str,
    watchface_name: str,
    hour: int,
    minute: int,
    second: int,
    shows_seconds: bool,
    hour_visible: bool,
    minute_visible: bool,
    second_visible: bool,
    hour_angle: float,
    minute_angle: float,
    second_angle: float,
    body_id: int,
    body_name: str,
    face_features: str,
    width: int,
    height: int,
    question: str,
    provenance: dict[str, Any],
) -> dict[str, Any]:
    text = clock_time_text(hour, minute)
    return {
        "example_id": example_id,
        "image": image,
        "image_sha256": image_sha256,
        "source": source,
        "watchface_id": watchface_id,
        "watchface_name": watchface_name,
        "watch_time": watch_time(hour, minute, second),
        "time_format": "12h",
        "shows_seconds": shows_seconds,
        "hour_visible": hour_visible,
        "minute_visible": minute_visible,
        "second_visible": second_visible,
        "text": text,
        "hour": hour,
        "minute": minute,
        "second": second,
        "hour_angle": hour_angle,
        "minute_angle": minute_angle,
        "second_angle": second_angle,
        "body_id": body_id,
        "body_name": body_name,
        "face_features": face_features,
        "width": width,
        "height": height,
        "style": CLOCKS_STYLE,
        "question": question,
        "answer": text,
        "provenance": provenance,
    }


def validate(row: dict[str, Any]) -> list[str]:
    problems = check_row(row, SCHEMA)
    if problems:
        return problems
    problems += check_image(row)
    hour, minute, second = row["hour"], row["minute"], row["second"]
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 59):
        return problems + [f"time {hour}:{minute}:{second} is out of range"]
    if row["watch_time"] != watch_time(hour, minute, second):
        problems.append(f"watch_time {row['watch_time']!r} does not match {hour}:{minute}:{second}")
    if row["text"] != clock_time_text(hour, minute):
        problems.append(f"text {row['text']!r} does not say {clock_time_text(hour, minute)!r}")
    if row["answer"] != row["text"]:
        problems.append("answer differs from text")
    if not row["question"].strip():
        problems.append("question is empty")
    wanted = expected_angles(hour, minute, second)
    got = (row["hour_angle"], row["minute_angle"], row["second_angle"])
    for name, want, have in zip(("hour", "minute", "second"), wanted, got, strict=True):
        if not math.isfinite(have) or _angle_gap(want, have) > 0.01:
            problems.append(f"{name}_angle {have} does not show the time (expected {want:.3f})")
    if row["shows_seconds"] is False and row["second_visible"]:
        problems.append("second_visible is true on a face without a second hand")
    if row["width"] <= 0 or row["height"] <= 0:
        problems.append("width and height must be positive")
    return problems


def validate_table(table: pa.Table) -> dict[int, list[str]]:
    """`validate` for a whole shard at once, column by column: problems by row position (valid rows absent).

    The table already has this schema's columns and types (converting the rows checked them). The image hash
    is recomputed for the first row only: the generator hashes the very bytes it has just encoded, so only a
    wiring mistake could make them differ, and that would show in every row.
    """
    problems: dict[int, list[str]] = defaultdict(list)
    for name in table.column_names:
        if table.column(name).null_count:
            for i in np.flatnonzero(table.column(name).is_null().to_numpy(zero_copy_only=False)):
                problems[int(i)].append(f"{name}: must not be null")
    if problems:
        return dict(problems)  # the rules below assume values everywhere
    images = table.column("image").combine_chunks()
    for i in np.flatnonzero(pc.binary_length(images.field("bytes")).to_numpy() == 0):
        problems[int(i)].append("image: no bytes")
    if table.num_rows and not problems:
        first = table.slice(0, 1).to_pylist()[0]
        if first["image_sha256"] != sha256_hex(first["image"]["bytes"]):
            problems[0].append("image_sha256 does not match the image bytes")

    column = {name: table.column(name).to_numpy(zero_copy_only=False) for name in _CHECKED_COLUMNS}
    hour, minute, second = column["hour"], column["minute"], column["second"]
    in_range = (0 <= hour) & (hour <= 23) & (0 <= minute) & (minute <= 59) & (0 <= second) & (second <= 59)
    for i in np.flatnonzero(~in_range):
        problems[int(i)].append(f"time {hour[i]}:{minute[i]}:{second[i]} is out of range")
    for i in np.flatnonzero(in_range):
        h, m, s = int(hour[i]), int(minute[i]), int(second[i])
        if column["watch_time"][i] != watch_time(h, m, s):
            problems[int(i)].append(f"watch_time {column['watch_time'][i]!r} does not match {h}:{m}:{s}")
        if column["text"][i] != clock_time_text(h, m):
            problems[int(i)].append(f"text {column['text'][i]!r} does not say {clock_time_text(h, m)!r}")
        if column["answer"][i] != column["text"][i]:
            problems[int(i)].append("answer differs from text")
        if not column["question"][i].strip():
            problems[int(i)].append("question is empty")
    wanted = expected_angles(hour, minute, second)
    for name, want in zip(("hour", "minute", "second"), wanted, strict=True):
        have = column[f"{name}_angle"]
        gap = np.abs((want - have + 180.0) % 360.0 - 180.0)
        for i in np.flatnonzero(in_range & ~(np.isfinite(have) & (gap <= 0.01))):
            problems[int(i)].append(f"{name}_angle {have[i]} does not show the time (expected {want[i]:.3f})")
    for i in np.flatnonzero(in_range & ~column["shows_seconds"] & column["second_visible"]):
        problems[int(i)].append("second_visible is true on a face without a second hand")
    for i in np.flatnonzero(in_range & ((column["width"] <= 0) | (column["height"] <= 0))):
        problems[int(i)].append("width and height must be positive")
    return dict(problems)


_CHECKED_COLUMNS = (
    "hour",
    "minute",
    "second",
    "watch_time",
    "text",
    "answer",
    "question",
    "hour_angle",
    "minute_angle",
    "second_angle",
    "shows_seconds",
    "second_visible",
    "width",
    "height",
)
