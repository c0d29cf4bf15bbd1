"""Real resume for the record-flow subsets: a run SIGKILLed after some input shards finished is rerun with the
same command; the finished shards are not recomputed (no reads, no model calls for them) and the rows equal those
of an uninterrupted run. Work of another plan left in the staging folder is never counted."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from PIL import Image, ImageOps

import beam_runner
from annotation.exports import CAP_MANIFEST, CapRecord, to_json
from media.samples import bundled_images_dir
from pipelines.cap.options import ensure_sample_manifest

REPO = Path(__file__).resolve().parents[2]
ASSETS = bundled_images_dir()
pytestmark = pytest.mark.skipif(ASSETS is None, reason="ultralytics (the sample photos) is not installed")
COUNT_RUN = ["--workers", "1", "--splits", "train=1", "--device", "cpu", "--input-shard-size", "1"]


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    """Six different pictures (no two are duplicates): the photos, their mirrors, crops."""
    root = tmp_path_factory.mktemp("images")
    for name in ("bus", "zidane"):
        photo = Image.open(os.path.join(ASSETS, f"{name}.jpg"))
        photo.save(root / f"{name}.jpg", quality=92)
        ImageOps.mirror(photo).save(root / f"{name}_mirror.jpg", quality=92)
        photo.crop((0, 0, photo.width * 3 // 4, photo.height * 3 // 4)).save(root / f"{name}_crop.jpg", quality=92)
    return root


def markers(output: Path, subset: str) -> list[Path]:
    return sorted(output.glob(f".{subset}.incomplete-*/_work/*/shard-*.done.json"))


def run_and_kill(argv: list[str], output: Path, subset: str, after: int) -> None:
    """Start the command in its own process group and SIGKILL the whole group once `after` shards are done."""
    log = open(output.parent / f"{subset}-killed.log", "w")
    process = subprocess.Popen(
        [sys.executable, "beam_runner.py", *argv], cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        while len(markers(output, subset)) < after:
            assert process.poll() is None, f"the run ended before {after} shards were done: {output.parent}"
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert not (output / subset).exists()  # nothing was published by the killed run


def counters(results: list) -> dict[str, int]:
    query = results[-1].metrics().query(MetricsFilter().with_namespace("pixmo.record_flow"))
    return {c.key.metric.name: c.committed for c in query["counters"]}


@pytest.fixture
def pipeline_results(monkeypatch) -> list:
    """The PipelineResult of every pipeline run in-process (to read its Beam counters)."""
    results: list = []
    run = beam.Pipeline.run

    def keep(self, *args, **kwargs):
        result = run(self, *args, **kwargs)
        results.append(result)
        return result

    monkeypatch.setattr(beam.Pipeline, "run", keep)
    return results


def shard_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.glob("*/*.parquet"))}


def test_a_killed_count_run_resumes_where_it_stopped(images, tmp_path, capsys, pipeline_results):
    output = tmp_path / "out"
    argv = ["count", "--input", str(images), "--output", str(output), *COUNT_RUN]
    run_and_kill(argv, output, "count", after=2)
    kept = markers(output, "count")
    kept_images = sum(json.loads(p.read_text())["inputs"] for p in kept)

    assert beam_runner.main(argv + ["--no-progress"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "resuming:" in line)
    done, total_shards = (int(n) for n in line.split("resuming: ")[1].split(" input shards")[0].split(" of "))
    assert done >= 2 and done == len(kept) < total_shards
    stats = counters(pipeline_results)
    assert stats["input_shards_read"] == total_shards - done  # the finished shards were not read again
    assert stats["Detector_requests"] == 6 - kept_images  # ... nor their images shown to the model

    fresh = tmp_path / "fresh"
    assert beam_runner.main(["count", "--input", str(images), "--output", str(fresh), *COUNT_RUN, "--no-progress"]) == 0
    assert shard_bytes(output / "count") == shard_bytes(fresh / "count")  # byte for byte an uninterrupted run
    manifest = json.loads((output / "count" / "manifest.json").read_text())
    assert manifest["rows"] + manifest["rejected"] == 6


def test_work_of_another_plan_is_never_counted(images, tmp_path, capsys):
    folder = tmp_path / "images"
    shutil.copytree(images, folder)
    (folder / "broken.jpg").write_text("not an image")  # so the first run keeps under --min-keep 1.0
    output = tmp_path / "out"
    base = ["count", "--input", str(folder), "--output", str(output), *COUNT_RUN[:-2], "--no-progress"]
    # A first run that is not published (it keeps less than it must) leaves its staging folder.
    assert beam_runner.main(base + ["--input-shard-size", "1", "--min-keep", "1.0"]) == 1
    (staging,) = output.glob(".count.incomplete-*")
    real = next(staging.glob("train/*.parquet"))
    # Plant what an older plan could have left: another shard count, its stats, its work.
    shutil.copy(real, staging / "train" / "part-00007-of-00009.parquet")
    (staging / "_shards" / "train" / "part-00007-of-00009.json").write_text(
        json.dumps({"split": "train", "shard": 7, "num_shards": 9, "rows": 999, "rejected": 0, "bytes": 1})
    )
    (staging / "_work" / "0ther0plan00").mkdir(parents=True)
    (staging / "_work" / "0ther0plan00" / "shard-00000.done.json").write_text("{}")
    capsys.readouterr()
    assert beam_runner.main(base + ["--input-shard-size", "3"]) == 0  # another plan, the same staging folder
    assert "resuming" not in capsys.readouterr().out
    root = output / "count"
    manifest = json.loads((root / "manifest.json").read_text())
    files = sorted(p.name for p in root.glob("train/*.parquet"))
    assert "part-00007-of-00009.parquet" not in files and manifest["splits"]["train"]["shards"] == len(files)
    rows = sum(json.loads(p.read_text())["rows"] for p in root.glob("_shards/train/*.json"))
    assert manifest["rows"] == rows < 999 and not (root / "_work").exists()


CAPTION_RUN = ["--workers", "1", "--caption-tokens", "48", "--llm-cpu-threads", "1", "--asr-cpu-threads", "1"]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    """Three records from the espeak-ng sample (its recordings reused for more records), with ids that fall in
    three different input shards: two finish before the kill, the third is the resumed run's work. Each has one
    recording, its first 8 s: resume is about which shards run, and the full recordings (34 s each) made this the
    suite's slowest test (198 s for the three runs) with nothing more to check."""
    sample = Path(ensure_sample_manifest())
    records = {r["record_id"]: r for r in map(json.loads, sample.read_text().splitlines())}
    root = tmp_path_factory.mktemp("cap")
    lines = []
    for record_id, copy in (("sample-bus", 0), ("sample-bus", 1), ("sample-zidane", 1)):
        record = records[record_id]
        audio = root / f"{record_id}-{copy}.wav"
        first_seconds(sample.parent / record["audio"][copy % len(record["audio"])], audio, 8.0)
        lines.append(to_json(CapRecord(f"{record_id}-{copy}", str(sample.parent / record["image"]), [str(audio)])))
    (root / CAP_MANIFEST).write_text("\n".join(lines) + "\n")
    return root / CAP_MANIFEST


def first_seconds(source: Path, target: Path, seconds: float) -> None:
    with wave.open(str(source)) as reader:
        params = reader.getparams()
        frames = reader.readframes(int(seconds * reader.getframerate()))
    with wave.open(str(target), "wb") as writer:
        writer.setparams(params)
        writer.writeframes(frames)


def test_a_killed_cap_run_resumes_where_it_stopped(manifest, tmp_path, capsys, pipeline_results):
    output = tmp_path / "out"
    argv = ["cap", "--input", str(manifest), "--output", str(output), *CAPTION_RUN, "--input-shard-size", "1"]
    run_and_kill(argv, output, "cap", after=2)
    kept = markers(output, "cap")
    assert beam_runner.main(argv + ["--no-progress", "--publish-anyway"]) in (0, 1)
    line = next(line for line in capsys.readouterr().out.splitlines() if "resuming:" in line)
    done, total = (int(n) for n in line.split("resuming: ")[1].split(" input shards")[0].split(" of "))
    assert total == 3 and done >= len(kept) >= 2 and done < total
    stats = counters(pipeline_results)
    assert stats["input_shards_read"] == total - done
    fresh = tmp_path / "fresh"
    fresh_argv = ["cap", "--input", str(manifest), "--output", str(fresh), *CAPTION_RUN, "--input-shard-size", "1"]
    assert beam_runner.main(fresh_argv + ["--no-progress", "--publish-anyway"]) in (0, 1)
    assert shard_bytes(output / "cap") == shard_bytes(fresh / "cap")
