"""PixMo-AskModelAnything rows: an annotator's question and the answer they accepted or wrote."""

from typing import Any

import pyarrow as pa

from schemas.common import check_image, check_row, make_schema

SCHEMA_VERSION = "0.1.0"

SCHEMA = make_schema(
    [
        # Published pixmo-ask-model-anything columns.
        pa.field("image_url", pa.string()),
        pa.field("question", pa.string()),
        pa.field("answer", pa.string()),
        # Ours: every draft/review round as JSON, kept as provenance.
        pa.field("draft_history", pa.string()),
    ],
    SCHEMA_VERSION,
)


def validate(row: dict[str, Any]) -> list[str]:
    problems = check_row(row, SCHEMA)
    if problems:
        return problems
    problems += check_image(row)
    for column in ("question", "answer"):
        if not row[column].strip():
            problems.append(f"{column} is empty")
    return problems
