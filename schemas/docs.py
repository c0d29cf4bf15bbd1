"""PixMo-Docs rows: an image rendered from LLM-written code, with QA written from the code."""

from typing import Any

import pyarrow as pa

from schemas.common import QUESTIONS, check_image, check_row, make_schema

SCHEMA_VERSION = "0.2.0"

# PixMo-Docs' four configs, kept in the `config` column (splits stay the top folders, as in every subset).
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
        pa.field("figure_type", pa.string()),
        pa.field("data_format", pa.string()),  # csv | json
        # One kind per question (short, multiple_choice, yes_no, summary, unanswerable), parallel to `questions`.
        pa.field("qa_kinds", pa.list_(pa.string())),
        # Code attempts until the image was usable: 1 = first try, 2+ = after sending errors back.
        pa.field("render_attempts", pa.int64()),
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
    if len(row["qa_kinds"]) != len(questions):
        problems.append(f"{len(row['qa_kinds'])} qa_kinds for {len(questions)} questions")
    if row["render_attempts"] < 1:
        problems.append("render_attempts must be >= 1")
    for name in ("code", "data", "renderer", "topic", "persona"):
        if not row[name].strip():
            problems.append(f"{name} is empty")
    if row["config"] not in CONFIGS:
        problems.append(f"config must be one of {CONFIGS}")
    return problems


def build_row(**fields: Any) -> dict[str, Any]:
    """A row in schema column order; every column must be given (validate() reports what is missing)."""
    return {name: fields[name] for name in SCHEMA.names if name in fields} | {
        k: v for k, v in fields.items() if k not in SCHEMA.names
    }
