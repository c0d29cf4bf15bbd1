"""The Points pipeline end to end on the local runner, from an export folder with good and bad records."""

import json
import os
import shutil

import pyarrow.parquet as pq
import pytest

import beam_runner
from annotation.exports import POINTS, Point, PointsRecord, write_jsonl
from pipelines.common.listing import example_id_for
from pipelines.count import bundled_images_dir
from schemas import points as points_schema

ASSETS = bundled_images_dir()
pytestmark = pytest.mark.skipif(ASSETS is None, reason="ultralytics (bundled sample images) is not installed")


def rec(record_id, image, label, points=(), not_present=False, **extra):
    return PointsRecord(record_id, image, label, [Point(x, y) for x, y in points], not_present, **extra)


GOOD = {
    "p-people": rec("p-people", "images/bus.jpg", "person", [(10, 60), (30, 55), (60, 58), (95, 70)], annotator="ann1"),
    "p-bus": rec("p-bus", "images/bus.jpg", "bus", [(50.5, 40.25)]),
    "p-giraffe": rec("p-giraffe", "images/bus.jpg", "giraffe", not_present=True),
    "p-tie": rec("p-tie", "./images/zidane.jpg", "tie", [(30, 70), (70, 50)], explanation="two ties, one each"),
}
BAD = {  # record_id -> (stage, part of the reason)
    "p-ball": ("check", "outside 0-100"),
    "p-blank": ("check", "empty label"),
    "p-missing": ("image", "cannot read the image"),
    "p-broken": ("image", "not an image"),
    "p-escape": ("check", "leaves the export folder"),
    "p-nopoints": ("check", "no points, and not marked not present"),
}


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    (root / "images").mkdir()
    for name in ("bus.jpg", "zidane.jpg"):
        shutil.copy(os.path.join(ASSETS, name), root / "images" / name)
    (root / "images" / "broken.jpg").write_text("<html>not an image</html>")
    records = list(GOOD.values()) + [
        rec("p-ball", "images/zidane.jpg", "ball", [(120, 50)]),
        rec("p-blank", "images/zidane.jpg", "   ", [(10, 10)]),
        rec("p-missing", "images/missing.jpg", "cat", [(10, 10)]),
        rec("p-broken", "images/broken.jpg", "cat", [(10, 10)]),
        rec("p-escape", "../outside.jpg", "cat", [(10, 10)]),
        rec("p-nopoints", "images/zidane.jpg", "shoe"),
        rec("p-people", "images/zidane.jpg", "person again", [(1, 1)]),  # duplicate record_id
    ]
    write_jsonl(str(root / POINTS), records)
    with open(root / POINTS, "a") as f:
        f.write('{"record_id": "broken json\n\n')  # and a blank line, which is no record
        f.write(json.dumps({"record_id": "p-extra", "image": "images/bus.jpg", "label": "x", "points": [],
                            "not_present": True, "colour": "red"}) + "\n")  # fmt: skip
    return root


@pytest.fixture(scope="module")
def dataset(export, tmp_path_factory):
    output = tmp_path_factory.mktemp("out")
    code = beam_runner.main(
        ["points", "--input", str(export), "--output", str(output), "--workers", "1", "--no-progress",
         "--splits", "train=0.5,validation=0.5", "--seed", "3"]
    )  # fmt: skip
    assert code == 0
    return output / "points"


def all_rows(root):
    return [r for split in ("train", "validation") if (root / split).exists() for r in
            [dict(row, split=split) for row in pq.read_table(str(root / split)).to_pylist()]]  # fmt: skip


def dead_letters(root):
    return [json.loads(line) for f in sorted((root / "_rejected").iterdir()) for line in f.read_text().splitlines()]


def test_every_line_is_a_row_or_a_dead_letter(dataset, export):
    rows, dead = all_rows(dataset), dead_letters(dataset)
    lines = [line for line in (export / POINTS).read_text().splitlines() if line.strip()]
    assert len(rows) + len(dead) == len(lines) == 13
    assert sorted(r["record_id"] for r in rows) == sorted(GOOD)
    by_id = {d["details"].get("record_id") or d["details"].get("record", {}).get("record_id"): d for d in dead}
    for record_id, (stage, reason) in BAD.items():
        assert by_id[record_id]["stage"] == stage and reason in by_id[record_id]["reason"], by_id[record_id]
    others = sorted((d["stage"], d["reason"]) for d in dead if d["input"].endswith((":11", ":12", ":14")))
    assert others[0] == ("duplicate", "duplicate record_id 'p-people' (kept line 1)")
    assert others[1][0] == "parse" and others[1][1].startswith("line 12:")
    assert others[2] == ("parse", "line 14: PointsRecord: unknown keys ['colour']")
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert manifest["rows"] == 4 and manifest["rejected"] == 9


def test_rows_carry_the_annotation(dataset):
    rows = {r["record_id"]: r for r in all_rows(dataset)}
    for row in rows.values():
        assert points_schema.validate({k: v for k, v in row.items() if k != "split"}) == []
        assert row["example_id"] == example_id_for("points", row["record_id"])
        assert row["collection_method"] == "pointing" and row["count"] == len(row["points"])
    people = rows["p-people"]
    assert people["points"][0] == {"x": 10.0, "y": 60.0} and people["count"] == 4 and people["annotator"] == "ann1"
    assert (people["width"], people["height"]) == (810, 1080) and people["image"]["bytes"][:2] == b"\xff\xd8"
    assert people["image_url"].endswith("images/bus.jpg") and people["source"] == "file"
    giraffe = rows["p-giraffe"]
    assert giraffe["not_present"] and giraffe["count"] == 0 and giraffe["points"] == []
    assert rows["p-tie"]["explanation"] == "two ties, one each"
    # One image, one split: all three bus expressions together.
    assert len({rows[k]["split"] for k in ("p-people", "p-bus", "p-giraffe")}) == 1
    assert len({r["image_sha256"] for r in rows.values()}) == 2


def test_reports(dataset):
    stats = set(os.listdir(dataset / "stats"))
    assert {"count_histogram.svg", "not_present.svg", "expressions_per_image.svg", "label_lengths.svg"} <= stats
    summary = json.loads((dataset / "stats" / "points_stats.json").read_text())
    assert summary["not_present"] == 1 and summary["expressions_per_image"] == {"1": 1, "3": 1}
    assert summary["count"] == {"0": 1, "1": 1, "2": 1, "3": 0, "4": 1}
    preview = (dataset / "preview.html").read_text()
    assert preview.count('class="card"') == 4 and "giraffe: not present" in preview
    assert "PixMo-points" in (dataset / "README.md").read_text()


def test_argument_problems_are_reported_before_any_work(export, tmp_path, capsys):
    assert beam_runner.main(["points", "--output", str(tmp_path)]) == 2
    assert beam_runner.main(["points", "--input", str(tmp_path), "--output", str(tmp_path)]) == 2
    assert beam_runner.main(["points", "--input", str(export), "--output", str(tmp_path), "--splits", "train=10"]) == 2
    err = capsys.readouterr().err
    assert "needs --input EXPORT" in err and "no points.jsonl in it" in err and "give fractions" in err
    assert not (tmp_path / "points").exists()
