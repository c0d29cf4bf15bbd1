"""The export contract: records survive a write/read round trip; bad lines become errors, not a stopped read."""

import json

from annotation.exports import (
    AMARecord,
    AMARound,
    CapRecord,
    CountVerificationRecord,
    Point,
    PointsRecord,
    from_dict,
    read_jsonl,
    to_json,
    write_jsonl,
)

RECORDS = [
    (PointsRecord, PointsRecord("p1", "images/a.jpg", "a cup", [Point(10.5, 20)], False, explanation="é")),
    (AMARecord, AMARecord("q1", "images/a.jpg", "Why?", [AMARound("d", "edited", edited_answer="e")], "e")),
    (CapRecord, CapRecord("c1", "images/a.jpg", ["audio/r1.webm"], reference_texts=["hello"])),
    (CountVerificationRecord, CountVerificationRecord("v1", "count-1", "images/a.jpg", "fixed", 2, [Point(1, 2)])),
]


def test_round_trip(tmp_path):
    for cls, record in RECORDS:
        path = str(tmp_path / f"{cls.__name__}.jsonl")
        assert write_jsonl(path, [record, record]) == 2
        read = list(read_jsonl(path, cls))
        assert [n for n, _ in read] == [1, 2] and all(r == record for _, r in read)
        assert from_dict(cls, json.loads(to_json(record))) == record


def test_bad_lines_yield_errors_and_the_read_goes_on(tmp_path):
    path = tmp_path / "points.jsonl"
    good = to_json(RECORDS[0][1])
    path.write_text(f"{good}\nnot json\n\n" + json.dumps({"record_id": "x", "oops": 1}) + f"\n{good}\n")
    read = list(read_jsonl(str(path), PointsRecord))
    assert [n for n, _ in read] == [1, 2, 4, 5]
    assert isinstance(read[1][1], ValueError) and str(read[1][1]).startswith("points.jsonl line 2:")
    assert isinstance(read[2][1], ValueError) and "unknown keys ['oops']" in str(read[2][1])
    assert read[3][1] == RECORDS[0][1]


def test_write_is_atomic(tmp_path):
    path = tmp_path / "ama.jsonl"
    write_jsonl(str(path), [RECORDS[1][1]])
    assert [p.name for p in tmp_path.iterdir()] == ["ama.jsonl"]  # no temp file left behind
