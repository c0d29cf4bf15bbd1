"""People's verdicts on held-out Count rows (the annotation app's count_verification.jsonl), applied to the rows.

"correct" marks the row verified as it is; "fixed" replaces its count and points with the person's and rewrites its
Molmo answers from them (boxes and scores are dropped: they were the detector's, and no longer match the points).
Verdicts never move a row between splits, and only held-out rows take them.
"""

import json
from dataclasses import dataclass
from typing import Any

from annotation import exports
from annotation.count.qa import count_qa

VERDICTS = ("correct", "fixed")


@dataclass(frozen=True)
class Verdict:
    record_id: str
    example_id: str
    verdict: str
    count: int
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    annotator: str
    created_at: str


class BadVerdict(ValueError):
    """A verification record that cannot be applied, with the reason."""


def verdict_from_record(record: exports.CountVerificationRecord) -> Verdict:
    if not record.example_id:
        raise BadVerdict("no example_id")
    if record.verdict not in VERDICTS:
        raise BadVerdict(f"verdict must be one of {VERDICTS}, got {record.verdict!r}")
    xs = tuple(float(p.x) for p in record.points)
    ys = tuple(float(p.y) for p in record.points)
    if any(not 0 <= v <= 100 for v in xs + ys):
        raise BadVerdict("a point is outside 0-100")
    if record.verdict == "fixed" and record.count != len(xs):
        raise BadVerdict(f"count {record.count} but {len(xs)} points")
    return Verdict(record.record_id, record.example_id, record.verdict, record.count, xs, ys, record.annotator,
                   record.created_at)  # fmt: skip


def latest_per_example(lines: list[str], source: str) -> tuple[dict[str, Verdict], list[tuple[str, str]]]:
    """JSON lines -> the latest verdict per example_id, and (input, reason) for every line not used."""
    verdicts: dict[str, Verdict] = {}
    problems: list[tuple[str, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            record = exports.from_dict(exports.CountVerificationRecord, json.loads(line))
            verdict = verdict_from_record(record)
        except (ValueError, TypeError) as error:
            problems.append((where, f"unreadable verification: {error}"))
            continue
        kept = verdicts.get(verdict.example_id)
        if kept is None or (verdict.created_at, verdict.record_id) > (kept.created_at, kept.record_id):
            if kept is not None:
                problems.append((f"{source}:{kept.record_id}", f"superseded by a later verdict ({verdict.record_id})"))
            verdicts[verdict.example_id] = verdict
        else:
            problems.append((where, f"superseded by a later verdict ({kept.record_id})"))
    return verdicts, problems


def apply_verdict(row: dict[str, Any], verdict: Verdict) -> dict[str, Any]:
    """The row as the person verified it (a new dict; the detector's numbers stay in provenance)."""
    details = json.loads(row["provenance"]["details"])
    details["verification"] = {
        "record_id": verdict.record_id, "verdict": verdict.verdict, "annotator": verdict.annotator,
        "at": verdict.created_at, "detector_count": row["count"], "detector_points": row["points"],
    }  # fmt: skip
    out = dict(row, verified=True, provenance=dict(row["provenance"], details=json.dumps(details, sort_keys=True)))
    if verdict.verdict == "fixed":
        qa = count_qa(row["label"], list(verdict.xs), list(verdict.ys))
        out |= {
            "count": verdict.count, "points": {"x": list(verdict.xs), "y": list(verdict.ys)}, "boxes": [],
            "scores": [], "question": qa.question, "answer": qa.answer,
            "question_count_only": qa.question_count_only, "answer_count_only": qa.answer_count_only,
        }  # fmt: skip
    return out
