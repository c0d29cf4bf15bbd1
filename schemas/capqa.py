"""PixMo-CapQA rows: a conversation an LLM wrote from a caption, as alternating user/assistant turns."""

from typing import Any

import pyarrow as pa

from schemas.common import check_image, check_row, make_schema

SCHEMA_VERSION = "0.2.0"

SCHEMA = make_schema(
    [
        # Published pixmo-cap-qa columns.
        pa.field("image_url", pa.string()),
        pa.field("messages", pa.list_(pa.string())),
        # Ours: the caption the questions came from, where it came from, and how the conversation was made.
        pa.field("caption", pa.string()),
        pa.field("source_example_id", pa.string()),
        pa.field("focuses", pa.list_(pa.string())),  # what each kept question was asked to be about
        pa.field("rejected_turns", pa.int64()),  # pairs the filters dropped (reasons in provenance details)
        pa.field("llm_model", pa.string()),
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
    if len(row["focuses"]) * 2 != len(messages):
        problems.append("one focus per question-answer pair")
    if not row["caption"].strip():
        problems.append("caption is empty")
    return problems
