"""PixMo-Docs rows: an image rendered from LLM-written code, with QA written from the code."""

from typing import Any

import pyarrow as pa

from schemas.common import QUESTIONS, check_image, check_row, make_schema

SCHEMA_VERSION = "0.1.0"

# PixMo-Docs' four configs; the pipeline writes one folder per config.
CONFIGS = ("charts", "tables", "diagrams", "other")

SCHEMA = make_schema(
    [
        # Published pixmo-docs columns.
        pa.field("image_id", pa.string()),
        pa.field("questions", QUESTIONS),
        # Ours: what made the image.
        pa.field("config", pa.string()),
        pa.field("renderer", pa.string()),
        pa.field("persona", pa.string()),
        pa.field("topic", pa.string()),
        pa.field("data", pa.string()),
        pa.field("code", pa.string()),
    ],
    SCHEMA_VERSION,
)


def validate(row: dict[str, Any]) -> list[str]:
    problems = check_row(row, SCHEMA)
    if problems:
        return problems
    problems += check_image(row)
    questions, answers = row["questions"]["question"], row["questions"]["answer"]
    if not questions:
        problems.append("no questions")
    if len(questions) != len(answers):
        problems.append(f"{len(questions)} questions but {len(answers)} answers")
    if any(not a.strip() for a in answers):
        problems.append("an answer is empty")
    if row["config"] not in CONFIGS:
        problems.append(f"config must be one of {CONFIGS}")
    return problems
