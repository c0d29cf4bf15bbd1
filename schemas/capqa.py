"""PixMo-CapQA rows: a conversation an LLM wrote from a caption, as alternating user/assistant turns."""

from typing import Any

import pyarrow as pa

from schemas.common import check_image, check_row, make_schema

SCHEMA_VERSION = "0.1.0"

SCHEMA = make_schema(
    [
        # Published pixmo-cap-qa columns.
        pa.field("image_url", pa.string()),
        pa.field("messages", pa.list_(pa.string())),
        # Ours: the caption the questions came from.
        pa.field("caption", pa.string()),
    ],
    SCHEMA_VERSION,
)


def validate(row: dict[str, Any]) -> list[str]:
    problems = check_row(row, SCHEMA)
    if problems:
        return problems
    problems += check_image(row)
    messages = row["messages"]
    if not messages or len(messages) % 2:
        problems.append(f"messages must be non-empty user/assistant pairs, got {len(messages)} turns")
    if any(not m.strip() for m in messages):
        problems.append("a message is empty")
    return problems
