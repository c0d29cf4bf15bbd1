"""Verdicts: checked when read, the latest per example kept, applied without touching what they don't change."""

import json

import pytest

from annotation.count.verification import (
    BadVerdict,
    Verdict,
    apply_verdict,
    problem_with,
    read_verdicts,
    verdict_from_record,
)
from annotation.exports import CountVerificationRecord, Point, to_json
from formatting.points import point_count_answer

BOXES = [{"x0": 0.0, "y0": 0.0, "x1": 1.0, "y1": 1.0}, {"x0": 2.0, "y0": 2.0, "x1": 3.0, "y1": 3.0}]
ROW = {
    "example_id": "count-1", "count": 2, "label": "people", "points": {"x": [1.0, 2.0], "y": [3.0, 4.0]},
    "boxes": BOXES, "scores": [0.9, 0.8], "question": "How many people are there?", "answer": "a",
    "question_count_only": "q2", "answer_count_only": "2", "verified": False,
    "provenance": {"pipeline": "count", "details": json.dumps({"capped_from": None})},
}  # fmt: skip


def record(**changes) -> CountVerificationRecord:
    base = dict(record_id="r", example_id="count-1", image="i.jpg", verdict="correct", count=2, points=[])
    return CountVerificationRecord(**{**base, **changes})


def line(**changes) -> bytes:
    return to_json(record(**changes)).encode()


def test_correct_marks_verified_and_keeps_the_detector_numbers():
    out = apply_verdict(ROW, verdict_from_record(record(annotator="ana", created_at="2026-01-01T00:00:00Z")))
    assert out["verified"] is True and not ROW["verified"]  # a new row; the input is untouched
    assert {k: v for k, v in out.items() if k not in ("verified", "provenance")} == {
        k: v for k, v in ROW.items() if k not in ("verified", "provenance")
    }
    details = json.loads(out["provenance"]["details"])
    assert details["capped_from"] is None and out["provenance"]["pipeline"] == "count"
    assert details["verification"] == {
        "record_id": "r", "verdict": "correct", "annotator": "ana", "at": "2026-01-01T00:00:00Z",
        "detector_count": 2, "detector_points": ROW["points"], "detector_boxes": BOXES, "detector_scores": [0.9, 0.8],
    }  # fmt: skip


def test_fixed_takes_the_persons_points_left_to_right_and_rewrites_the_answers():
    points = [Point(70.0, 10.0), Point(20.5, 80.0), Point(20.5, 30.0)]
    out = apply_verdict(ROW, verdict_from_record(record(verdict="fixed", count=3, points=points, annotator="bob")))
    assert out["count"] == 3 and out["points"] == {"x": [20.5, 20.5, 70.0], "y": [30.0, 80.0, 10.0]}
    assert out["boxes"] == [] and out["scores"] == [] and out["verified"] is True
    assert out["answer"] == point_count_answer(out["points"], "people") and out["answer"].endswith("a total of 3.")
    assert out["answer_count_only"] == "3" and out["question_count_only"].endswith("How many people are there?")
    details = json.loads(out["provenance"]["details"])["verification"]
    assert details["detector_count"] == 2 and details["detector_points"] == ROW["points"]
    assert details["annotator"] == "bob" and details["verdict"] == "fixed"


def test_fixed_to_zero_says_there_are_none():
    out = apply_verdict(ROW, verdict_from_record(record(verdict="fixed", count=0)))
    assert out["count"] == 0 and out["points"] == {"x": [], "y": []} and out["answer"] == "There are none."


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"verdict": "maybe"}, "verdict must be"),
        ({"verdict": "fixed", "count": 2, "points": [Point(1.0, 1.0)]}, "count 2 but 1 points"),
        ({"points": [Point(101.0, 1.0)]}, r"points\[0\].x = 101.0 is outside 0-100"),
        ({"points": [Point(1.0, -0.5)]}, r"points\[0\].y = -0.5 is outside 0-100"),
        ({"points": [Point(float("nan"), 1.0)]}, "outside 0-100"),
        ({"points": [Point(True, 1.0)]}, "must be a number"),
        ({"points": [Point("5", 1.0)]}, "must be a number"),
        ({"points": [[5, 5]]}, "must be an object with x and y"),
        ({"count": "2"}, "count must be a whole number"),
        ({"count": -1}, "count must be a whole number"),
        ({"count": 2.0}, "count must be a whole number"),
        ({"example_id": ""}, "no example_id"),
        ({"example_id": 7}, "example_id must be a string"),
        ({"record_id": ""}, "no record_id"),
        ({"created_at": "yesterday"}, "not an ISO 8601 time"),
    ],
)
def test_bad_verdicts_say_why(changes, reason):
    with pytest.raises(BadVerdict, match=reason):
        verdict_from_record(record(**changes))


def test_latest_verdict_per_example_wins_by_time_not_by_spelling_or_line_order():
    lines = [
        line(record_id="a", created_at="2026-01-02T00:30:00+01:00"),  # 2026-01-01T23:30Z: older
        line(record_id="b", verdict="fixed", count=0, created_at="2026-01-02T00:00:00Z"),
        line(record_id="c", created_at="2026-01-01T12:00:00"),  # no zone: UTC
        line(record_id="d", example_id="count-2"),
    ]
    verdicts, problems = read_verdicts(b"\n".join(lines) + b"\n", "v.jsonl")
    assert {k: v.record_id for k, v in verdicts.items()} == {"count-1": "b", "count-2": "d"}
    assert verdicts["count-1"].where == "v.jsonl:2"
    assert [(p.where, p.record_id) for p in problems] == [("v.jsonl:1", "a"), ("v.jsonl:3", "c")]
    assert all(p.reason.startswith("superseded by a later verdict on count-1: b (v.jsonl:2)") for p in problems)
    again, again_problems = read_verdicts(b"\n".join(lines[::-1]), "v.jsonl")
    assert {k: v.record_id for k, v in again.items()} == {"count-1": "b", "count-2": "d"}
    assert sorted(p.record_id for p in again_problems) == ["a", "c"]


def test_a_later_unusable_verdict_is_not_replaced_by_an_older_one():
    """The person replaced "correct" with a fix that cannot be applied: neither is applied, both say why."""
    lines = [
        line(record_id="old", created_at="2026-01-01T00:00:00Z"),
        line(record_id="new", verdict="fixed", count=3, points=[Point(1, 1)], created_at="2026-01-02T00:00:00Z"),
    ]
    verdicts, problems = read_verdicts(b"\n".join(lines), "v.jsonl")
    assert verdicts == {}
    assert [(p.where, p.example_id) for p in problems] == [("v.jsonl:1", "count-1"), ("v.jsonl:2", "count-1")]
    assert problems[0].reason.endswith("(v.jsonl:2, which is unusable)")
    assert problems[1].reason == "bad verdict: count 3 but 1 points"


def test_every_malformed_line_is_a_problem_with_its_line():
    data = b"\n".join(
        [
            b'{"record_id": "broken"',
            b"[1, 2]",
            line().replace(b'"verdict"', b'"verdikt"'),
            b"\xff\xfe not utf-8",
            b"   ",
            line(created_at="soon"),
            b'{"record_id": "x", "example_id": "count-1", "image": "", "verdict": "fixed", "count": 1, "points": 5}',
            line(record_id="ok", example_id="count-9"),
        ]
    )
    verdicts, problems = read_verdicts(data, "v.jsonl")
    assert list(verdicts) == ["count-9"]
    reasons = {p.where: p.reason for p in problems}
    assert sorted(reasons) == ["v.jsonl:1", "v.jsonl:2", "v.jsonl:3", "v.jsonl:4", "v.jsonl:6", "v.jsonl:7"]
    assert reasons["v.jsonl:1"].startswith("malformed verification: not JSON")
    assert reasons["v.jsonl:2"] == "malformed verification: expected a JSON object, got list"
    assert "unknown keys ['verdikt']" in reasons["v.jsonl:3"] and "not UTF-8" in reasons["v.jsonl:4"]
    assert "not an ISO 8601 time" in reasons["v.jsonl:6"] and reasons["v.jsonl:7"].startswith("malformed")


def test_verdicts_apply_to_held_out_rows_only_and_a_confirmation_must_match_the_row():
    correct = verdict_from_record(record())
    assert problem_with("validation", ROW, correct) is None
    assert "held-out rows only" in problem_with("train", ROW, correct)
    stale = Verdict("r", "count-1", "correct", 3, (), (), "", "")
    assert "confirms a count of 3 but this run's row has 2" in problem_with("test", ROW, stale)
    fixed = verdict_from_record(record(verdict="fixed", count=1, points=[Point(5, 5)]))
    assert problem_with("test", ROW, fixed) is None and "held-out rows only" in problem_with("train", ROW, fixed)
