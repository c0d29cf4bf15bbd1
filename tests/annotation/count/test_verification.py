"""Verdicts: checked when read, the latest per example kept, applied without touching what they don't change."""

import json

import pytest

from annotation.count.verification import BadVerdict, apply_verdict, latest_per_example, verdict_from_record
from annotation.exports import CountVerificationRecord, Point, to_json

ROW = {
    "example_id": "count-1", "count": 2, "label": "people", "points": {"x": [1.0, 2.0], "y": [3.0, 4.0]},
    "boxes": [{"x0": 0, "y0": 0, "x1": 1, "y1": 1}] * 2, "scores": [0.9, 0.8], "question": "q", "answer": "a",
    "question_count_only": "q2", "answer_count_only": "2", "verified": False,
    "provenance": {"details": json.dumps({"capped_from": None})},
}  # fmt: skip


def record(**changes) -> CountVerificationRecord:
    base = dict(record_id="r", example_id="count-1", image="i.jpg", verdict="correct", count=2, points=[])
    return CountVerificationRecord(**{**base, **changes})


def test_correct_marks_verified_and_keeps_the_detector_numbers():
    out = apply_verdict(ROW, verdict_from_record(record(annotator="ana")))
    assert out["verified"] and out["count"] == 2 and out["boxes"] == ROW["boxes"] and not ROW["verified"]
    details = json.loads(out["provenance"]["details"])
    assert details["capped_from"] is None and details["verification"]["annotator"] == "ana"


def test_fixed_takes_the_persons_points_and_rewrites_the_answers():
    out = apply_verdict(ROW, verdict_from_record(record(verdict="fixed", count=1, points=[Point(50.0, 50.0)])))
    assert out["count"] == 1 and out["points"] == {"x": [50.0], "y": [50.0]} and out["boxes"] == out["scores"] == []
    assert out["answer_count_only"] == "1" and "50" in out["answer"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"verdict": "maybe"}, "verdict must be"),
        ({"verdict": "fixed", "count": 2, "points": [Point(1.0, 1.0)]}, "count 2 but 1 points"),
        ({"points": [Point(101.0, 1.0)]}, "outside 0-100"),
        ({"example_id": ""}, "no example_id"),
    ],
)
def test_bad_verdicts_say_why(changes, reason):
    with pytest.raises(BadVerdict, match=reason):
        verdict_from_record(record(**changes))


def test_latest_verdict_per_example_wins():
    lines = [
        to_json(record(record_id="a", created_at="2026-01-02")),
        to_json(record(record_id="b", created_at="2026-01-01")),
        "not json",
    ]
    verdicts, problems = latest_per_example(lines, "v.jsonl")
    assert verdicts["count-1"].record_id == "a"
    assert [where for where, _ in problems] == ["v.jsonl:2", "v.jsonl:3"]
