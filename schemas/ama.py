"""PixMo-AskModelAnything rows: an annotator's question and the answer they accepted or wrote."""

import json
from typing import Any

import pyarrow as pa

from schemas.common import check_image, check_row, make_schema

SCHEMA_VERSION = "0.2.0"

FINAL_ACTIONS = ("accepted", "edited")

SCHEMA = make_schema(
    [
        # Published pixmo-ask-model-anything columns.
        pa.field("image_url", pa.string()),
        pa.field("question", pa.string()),
        pa.field("answer", pa.string()),
        # Ours: every draft/review round as JSON, kept as provenance.
        pa.field("draft_history", pa.string()),
        pa.field("final_action", pa.string()),  # how the answer came: an accepted draft or the annotator's edit
        pa.field("rounds", pa.int64()),  # drafts shown before (and including) the final one
        pa.field("draft_model", pa.string()),  # the LLM that drafted the final round
        pa.field("record_id", pa.string()),  # the annotation app's id; example_id derives from it
        pa.field("annotator", pa.string()),
        pa.field("created_at", pa.string()),  # ISO 8601 UTC, as exported
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
    for column in ("question", "answer"):
        if not row[column].strip():
            problems.append(f"{column} is empty")
    if row["final_action"] not in FINAL_ACTIONS:
        problems.append(f"final_action must be one of {FINAL_ACTIONS}, got {row['final_action']!r}")
    try:
        history = json.loads(row["draft_history"])
    except json.JSONDecodeError as error:
        return problems + [f"draft_history is not JSON: {error}"]
    if not isinstance(history, list) or len(history) != row["rounds"]:
        problems.append(f"draft_history must be a list of {row['rounds']} rounds")
    return problems
