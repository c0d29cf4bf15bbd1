"""PixMo-CapQA rows: a conversation an LLM wrote from a caption, as alternating user/assistant turns."""

from typing import Any

import pyarrow as pa

from schemas.common import check_image, check_row, make_schema

SCHEMA_VERSION = "0.3.0"  # 0.3.0: two LLM rounds (ask, answer); drops name their round and check

SCHEMA = make_schema(
    [
        # Published pixmo-cap-qa columns.
        pa.field("image_url", pa.string()),
        pa.field("messages", pa.list_(pa.string())),
        # Ours: the caption the questions came from, where it came from, and how the conversation was made.
        pa.field("caption", pa.string()),
        pa.field("source_example_id", pa.string()),
        pa.field("focuses", pa.list_(pa.string())),  # what each kept question was asked to be about
        # Pairs the filters dropped; provenance details list each: {turn, focus, stage (question|answer), check,
        # reason, text}. The prompts version is provenance.prompts_version.
        pa.field("rejected_turns", pa.int64()),
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
    if any(not q.rstrip().endswith("?") for q in messages[::2]):
        problems.append("every user turn must be a question ending with '?'")
    if row["rejected_turns"] < 0:
        problems.append("rejected_turns must be >= 0")
    if len(row["focuses"]) * 2 != len(messages):
        problems.append("one focus per question-answer pair")
    if not row["caption"].strip():
        problems.append("caption is empty")
    return problems
