"""People's verdicts on held-out Count rows (the annotation app's count_verification.jsonl), applied to the rows.

"correct" marks the row verified as it is; "fixed" replaces its count and points with the person's and rewrites its
Molmo answers from them (boxes and scores are dropped: they were the detector's, and no longer match the points).
The detector's numbers and the verdict are kept in the row's provenance details.

Reading is strict and loses nothing: every line is either the verdict applied to its example, or a `Problem` with
the reason (not UTF-8, not JSON, unknown keys, wrong types, a point outside 0-100, count != points on "fixed", a
later verdict on the same example). The latest verdict per example_id wins (created_at, then record_id, then line);
when that latest one is unusable, the example gets no verdict at all: an older verdict the person replaced is not
applied in its place. Verdicts never move a row between splits, and only held-out rows take them (the pipeline
checks that; see `problem_with`).
"""

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from annotation import exports
from annotation.count.qa import count_qa

VERDICTS = ("correct", "fixed")
OLDEST = datetime.min.replace(tzinfo=UTC)  # the time of a record without created_at


class BadVerdict(ValueError):
    """A verification record that cannot be applied, with the reason."""


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
    where: str = ""  # "FILE:LINE" it was read from


@dataclass(frozen=True)
class Problem:
    """A verification line that is not applied, and why (the pipeline makes it a dead letter)."""

    where: str  # "FILE:LINE"
    reason: str
    record_id: str = ""
    example_id: str = ""


def _text(record: exports.CountVerificationRecord, name: str, required: bool) -> str:
    value = getattr(record, name)
    if not isinstance(value, str):
        raise BadVerdict(f"{name} must be a string, got {type(value).__name__}")
    if required and not value.strip():
        raise BadVerdict(f"no {name}")
    return value


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadVerdict(f"{what} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or not 0 <= value <= 100:
        raise BadVerdict(f"{what} = {value} is outside 0-100 (points are percent of width/height)")
    return float(value)


def parse_time(text: str) -> datetime:
    """created_at (ISO 8601; no zone means UTC) -> an aware UTC datetime; empty -> OLDEST."""
    if not text:
        return OLDEST
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadVerdict(f"created_at {text!r} is not an ISO 8601 time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def verdict_from_record(record: exports.CountVerificationRecord, where: str = "") -> Verdict:
    """Check one record; BadVerdict with the reason when it cannot be applied to any row."""
    record_id = _text(record, "record_id", required=True)
    example_id = _text(record, "example_id", required=True)
    annotator = _text(record, "annotator", required=False)
    created_at = _text(record, "created_at", required=False)
    parse_time(created_at)
    if record.verdict not in VERDICTS:
        raise BadVerdict(f"verdict must be one of {VERDICTS}, got {record.verdict!r}")
    if isinstance(record.count, bool) or not isinstance(record.count, int) or record.count < 0:
        raise BadVerdict(f"count must be a whole number >= 0, got {record.count!r}")
    if not isinstance(record.points, list):
        raise BadVerdict(f"points must be a list, got {type(record.points).__name__}")
    xs, ys = [], []
    for i, point in enumerate(record.points):
        if not isinstance(point, exports.Point):
            raise BadVerdict(f"points[{i}] must be an object with x and y, got {point!r}")
        xs.append(_number(point.x, f"points[{i}].x"))
        ys.append(_number(point.y, f"points[{i}].y"))
    if record.verdict == "fixed" and record.count != len(xs):
        raise BadVerdict(f"count {record.count} but {len(xs)} points")
    return Verdict(record_id, example_id, record.verdict, record.count, tuple(xs), tuple(ys), annotator, created_at,
                   where)  # fmt: skip


def parse_line(line: str) -> exports.CountVerificationRecord:
    """One JSON line -> a record (its values not checked yet); BadVerdict when it is not one."""
    try:
        data = json.loads(line)
    except ValueError as error:
        raise BadVerdict(f"not JSON: {error}") from None
    if not isinstance(data, dict):
        raise BadVerdict(f"expected a JSON object, got {type(data).__name__}")
    try:
        return exports.from_dict(exports.CountVerificationRecord, data)
    except (ValueError, TypeError) as error:
        raise BadVerdict(str(error)) from None


@dataclass(frozen=True)
class _Candidate:
    order: tuple[datetime, str, int]  # latest wins: created_at, then record_id, then line number
    record_id: str
    example_id: str
    where: str
    verdict: Verdict | None
    error: str  # why verdict is None


def read_verdicts(data: bytes, source: str) -> tuple[dict[str, Verdict], list[Problem]]:
    """count_verification.jsonl bytes -> the latest usable verdict per example_id, and a Problem per other line."""
    problems: list[Problem] = []
    candidates: dict[str, list[_Candidate]] = {}
    for number, raw in enumerate(data.splitlines(), start=1):
        where = f"{source}:{number}"
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            problems.append(Problem(where, f"malformed verification: not UTF-8 ({error.reason})"))
            continue
        if not line.strip():
            continue
        try:
            record = parse_line(line)
            record_id = _text(record, "record_id", required=True)
            example_id = _text(record, "example_id", required=True)
            when = parse_time(_text(record, "created_at", required=False))
        except BadVerdict as error:
            problems.append(Problem(where, f"malformed verification: {error}"))
            continue
        try:
            verdict, reason = verdict_from_record(record, where), ""
        except BadVerdict as error:
            verdict, reason = None, f"bad verdict: {error}"
        candidates.setdefault(example_id, []).append(
            _Candidate((when, record_id, number), record_id, example_id, where, verdict, reason)
        )
    verdicts: dict[str, Verdict] = {}
    for example_id, group in candidates.items():
        latest = max(group, key=lambda c: c.order)
        for older in group:
            if older is not latest:
                unusable = "" if latest.verdict else ", which is unusable"
                reason = f"superseded by a later verdict on {example_id}: {latest.record_id} ({latest.where}{unusable})"
                problems.append(Problem(older.where, reason, older.record_id, example_id))
        if latest.verdict is None:
            problems.append(Problem(latest.where, latest.error, latest.record_id, example_id))
        else:
            verdicts[example_id] = latest.verdict
    return verdicts, sorted(problems, key=lambda p: p.where)


def problem_with(split: str, row: dict[str, Any], verdict: Verdict) -> str | None:
    """Why `verdict` must not be applied to `row` of `split`, or None when it may."""
    if split == "train":
        return "the row is in train: verdicts apply to held-out rows only (splits never change)"
    if verdict.verdict == "correct" and verdict.count != row["count"]:
        return (
            f"the verdict confirms a count of {verdict.count} but this run's row has {row['count']} "
            "(it was verified against another run's row)"
        )
    return None


def apply_verdict(row: dict[str, Any], verdict: Verdict) -> dict[str, Any]:
    """The row as the person verified it (a new dict; the detector's numbers stay in provenance)."""
    details = json.loads(row["provenance"]["details"])
    details["verification"] = {
        "record_id": verdict.record_id, "verdict": verdict.verdict, "annotator": verdict.annotator,
        "at": verdict.created_at, "detector_count": row["count"], "detector_points": row["points"],
        "detector_boxes": row["boxes"], "detector_scores": row["scores"],
    }  # fmt: skip
    out = dict(row, verified=True, provenance=dict(row["provenance"], details=json.dumps(details, sort_keys=True)))
    if verdict.verdict == "fixed":
        points = sorted(zip(verdict.xs, verdict.ys, strict=True))  # left to right, as detector rows are
        xs, ys = [x for x, _ in points], [y for _, y in points]
        qa = count_qa(row["label"], xs, ys)
        out |= {
            "count": verdict.count, "points": {"x": xs, "y": ys}, "boxes": [], "scores": [],
            "question": qa.question, "answer": qa.answer,
            "question_count_only": qa.question_count_only, "answer_count_only": qa.answer_count_only,
        }  # fmt: skip
    return out
