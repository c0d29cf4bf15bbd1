"""The Clocks pipeline end to end on the real local runner: outputs, loaders, determinism, atomic reruns."""

import io
import json
import os
import signal
import subprocess
import sys
import time

import duckdb
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from PIL import Image

import beam_runner
from schemas import clocks as clocks_schema

ROOT = os.path.dirname(os.path.abspath(beam_runner.__file__))
SMALL = [
    "--num-examples",
    "40",
    "--splits",
    "train=0.8,validation=0.1,test=0.1",
    "--image-size",
    "192",
    "--samples-per-face",
    "4",
    "--workers",
    "2",
    "--no-progress",
    "--preview-rows",
    "6",
]


def build(output, *extra: str) -> int:
    return beam_runner.main(["clocks", "--output", str(output), *SMALL, *extra])


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    output = tmp_path_factory.mktemp("out")
    assert build(output) == 0
    return output / "clocks"


def read_split(root, split):
    return pq.read_table(str(root / split)).sort_by("example_id")


def test_layout_reports_and_manifest(dataset):
    assert sorted(os.listdir(dataset.parent)) == ["clocks"]  # no staging folder left behind
    for split, rows in (("train", 32), ("validation", 4), ("test", 4)):
        names = sorted(os.listdir(dataset / split))
        assert names and all(n.startswith("part-") and n.endswith(".parquet") for n in names)
        assert names[-1].endswith(f"-of-{len(names):05d}.parquet")
        assert read_split(dataset, split).num_rows == rows
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert manifest["complete"] and manifest["rows"] == 40 and manifest["rejected"] == 0
    assert manifest["splits"]["train"]["rows"] == 32
    assert manifest["seed"] == 0 and manifest["arguments"]["image_size"] == 192
    assert manifest["schema_version"] == clocks_schema.SCHEMA_VERSION and manifest["code_version"]
    listed = {f["path"] for f in manifest["files"]}
    assert "README.md" in listed and "preview.html" in listed
    assert (dataset / "_rejected").is_dir()
    plots = sorted(os.listdir(dataset / "stats"))
    assert {"time_of_day.svg", "bodies.svg", "hours.svg", "minutes.svg"} <= set(plots)
    card = (dataset / "README.md").read_text()
    assert "configs:" in card and "validation/*.parquet" in card and "PixMo-clocks" in card
    preview = (dataset / "preview.html").read_text()
    assert preview.count('class="card"') == 6 and "The time shown is" in preview


def test_every_row_is_valid_and_images_match_their_labels(dataset):
    table = read_split(dataset, "train")
    for row in table.to_pylist():
        assert clocks_schema.validate(row) == []
        image = Image.open(io.BytesIO(row["image"]["bytes"]))
        assert image.format == "JPEG" and image.size == (192, 192)
    ids = table.column("example_id").to_pylist()
    assert len(set(ids)) == len(ids)


def test_loads_with_pyarrow_duckdb_and_datasets(dataset):
    assert pads.dataset(str(dataset / "train"), format="parquet").count_rows() == 32
    counts = duckdb.sql(
        f"SELECT count(*), count(DISTINCT example_id) FROM read_parquet('{dataset}/*/*.parquet')"
    ).fetchall()
    assert counts == [(40, 40)]
    datasets = pytest.importorskip("datasets")
    loaded = datasets.load_dataset(
        "parquet",
        data_files={"validation": str(dataset / "validation" / "*.parquet")},
        split="validation",
        cache_dir=str(dataset.parent / "hf-cache"),
    )
    assert isinstance(loaded.features["image"], datasets.Image)
    first = loaded[0]
    assert first["image"].size == (192, 192)
    assert first["text"].startswith("The time shown is")


def test_rerun_with_same_arguments_gives_identical_rows(dataset, tmp_path):
    assert build(tmp_path) == 0
    for split in ("train", "validation", "test"):
        assert read_split(tmp_path / "clocks", split).equals(read_split(dataset, split))


def test_rerun_with_other_arguments_replaces_the_subset_whole(tmp_path):
    assert build(tmp_path) == 0
    assert build(tmp_path, "--seed", "5", "--splits", "train=0.5,validation=0.5") == 0
    root = tmp_path / "clocks"
    assert sorted(p for p in os.listdir(root) if not p.startswith(("_", "stats"))) == [
        "README.md",
        "manifest.json",
        "preview.html",
        "train",
        "validation",
    ]
    ids = read_split(root, "train").column("example_id").to_pylist()
    assert all(i.startswith("clocks-s5-") for i in ids)
    assert sorted(os.listdir(tmp_path)) == ["clocks"]


def test_killed_run_leaves_nothing_complete_looking_and_resumes(tmp_path):
    """SIGKILL mid-run: the old dataset stays whole, the staging folder has no manifest; rerun resumes (and, a
    whole run's output in a subprocess, prints no Fontconfig warnings)."""
    assert build(tmp_path, "--seed", "1") == 0  # a complete earlier dataset
    before = (tmp_path / "clocks" / "manifest.json").read_text()
    command = [
        sys.executable,
        "beam_runner.py",
        "clocks",
        "--output",
        str(tmp_path),
        "--num-examples",
        "400",
        "--image-size",
        "192",
        "--workers",
        "2",
        "--no-progress",
        "--rows-per-shard",
        "20",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 120
    staging = None
    while time.monotonic() < deadline and process.poll() is None:
        staging = next((tmp_path / n for n in os.listdir(tmp_path) if n.startswith(".clocks.incomplete-")), None)
        if staging and (staging / "_shards").is_dir() and any((staging / "_shards").rglob("*.json")):
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be interrupted"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert (tmp_path / "clocks" / "manifest.json").read_text() == before
    assert staging is not None and not (staging / "manifest.json").exists()
    done_before = len(list((staging / "_shards").rglob("*.json")))

    rerun = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "resuming" in rerun.stdout
    # skia's bundled fontconfig warns about the system's newer config; the generator never starts it.
    assert "clocks: done" in rerun.stdout and "Fontconfig" not in rerun.stdout + rerun.stderr
    manifest = json.loads((tmp_path / "clocks" / "manifest.json").read_text())
    assert manifest["rows"] == 400 and done_before >= 1
    assert sorted(os.listdir(tmp_path)) == ["clocks"]


def test_dataflow_job_graph_builds_offline(capsys):
    """The documented Dataflow flags build and validate the full job graph, offline, without submitting."""
    pytest.importorskip("apache_beam.runners.dataflow")
    argv = [
        "clocks", "--output", "gs://my-bucket/pixmo", "--num-examples", "1000",
        "--runner", "DataflowRunner", "--dry_run=True", "--no_auth", "--project", "my-project",
        "--region", "us-central1", "--temp_location", "gs://my-bucket/tmp",
        "--staging_location", "gs://my-bucket/staging", "--machine_type", "n2-standard-8",
        "--setup_file", os.path.join(ROOT, "setup.py"),
    ]  # fmt: skip
    assert beam_runner.main(argv) == 0
    assert "dry run" in capsys.readouterr().out
