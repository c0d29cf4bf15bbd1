"""Count throughput: the detector inside the Beam pipeline vs the bare detector loop, batched vs unbatched.

All runs use the same images (distinct crops of ultralytics' bus.jpg and zidane.jpg, written as JPEGs), the
same embedded detector and settings, in this one process tree, one after another, so the ratios compare like
with like. The bare loop reads and decodes each file and calls the detector in batches (model load timed
separately); the pipeline runs the whole Count job with one worker process (list, read, decode, hash, detect,
count, dedup, write shards, reports), with and without batching. Not a test: nothing here asserts a time.

    .venv/bin/python bench/count.py [--images 96] [--batch-size 8] [--device cpu]

The detector step's rate inside the pipeline comes from RunInference's own metrics (time spent in the
handler's run_inference per batch), so it is comparable with the bare loop's time inside detect().
"""

import argparse
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import apache_beam as beam  # noqa: E402
from apache_beam.metrics.metric import MetricsFilter  # noqa: E402
from PIL import Image  # noqa: E402

import beam_runner  # noqa: E402
from inference.detector import YoloDetector  # noqa: E402
from media.samples import bundled_images_dir  # noqa: E402
from pipelines.count.options import EMBEDDED_DEFAULTS  # noqa: E402


def make_images(folder: str, count: int, seed: int) -> list[str]:
    """Distinct random crops (75-100% of each side) of the bundled photos: different bytes, same kind of content."""
    assets = bundled_images_dir()
    if assets is None:
        raise SystemExit("ultralytics is not installed: its bundled photos are the benchmark's images")
    sources = [Image.open(os.path.join(assets, name)).convert("RGB") for name in ("bus.jpg", "zidane.jpg")]
    rng = random.Random(seed)
    paths = []
    for i in range(count):
        image = sources[i % len(sources)]
        w, h = image.size
        cw, ch = int(w * rng.uniform(0.75, 1.0)), int(h * rng.uniform(0.75, 1.0))
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        path = os.path.join(folder, f"img{i:05d}.jpg")
        image.crop((x, y, x + cw, y + ch)).save(path, quality=92)
        paths.append(path)
    return paths


def bare_loop(images: list[Image.Image], batch_size: int, device: str) -> tuple[float, float]:
    """(model load seconds, seconds inside detect() for every image) in a plain loop over decoded images."""
    start = time.perf_counter()
    detector = YoloDetector("embedded", device=device, imgsz=EMBEDDED_DEFAULTS["imgsz"], score_floor=0.2).load()
    detector.detect(images[:1])  # warm-up, as the pipeline's first batch also pays it
    loaded = time.perf_counter()
    for i in range(0, len(images), batch_size):
        detector.detect(images[i : i + batch_size])
    return loaded - start, time.perf_counter() - loaded


def pipeline(folder: str, batch_size: int, device: str) -> tuple[int, float, int, float]:
    """The whole Count run on one local worker: (images in, run seconds, images detected, seconds inside the
    detector's run_inference, from RunInference's own metrics)."""
    results: list = []
    original = beam.Pipeline.run

    def keep(self, *args, **kwargs):  # the run's PipelineResult, for its metrics
        result = original(self, *args, **kwargs)
        results.append(result)
        return result

    beam.Pipeline.run = keep
    try:
        with tempfile.TemporaryDirectory() as output:
            argv = [
                "count", "--input", folder, "--output", output, "--workers", "1", "--batch-size", str(batch_size),
                "--device", device, "--near-duplicate-bits", "-1", "--splits", "train=1", "--no-progress",
                "--preview-rows", "0", "--publish-anyway",
            ]  # fmt: skip
            start = time.perf_counter()
            beam_runner.main(argv)
            seconds = time.perf_counter() - start
    finally:
        beam.Pipeline.run = original
    metrics = results[-1].metrics().query(MetricsFilter().with_namespace("Detector"))
    latency = {m.key.metric.name: m.committed for m in metrics["distributions"]}
    flow = results[-1].metrics().query(MetricsFilter().with_namespace("pixmo.record_flow"))["counters"]
    detected = next((m.committed for m in flow if m.key.metric.name == "Detector_requests"), 0)
    detector_s = latency["inference_batch_latency_micro_secs"].sum / 1e6 if latency else float("nan")
    return len(os.listdir(folder)), seconds, detected, detector_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        paths = make_images(folder, args.images, args.seed)
        images = [Image.open(p).convert("RGB") for p in paths]
        rows = []
        for batch in (args.batch_size, 1):
            load_s, seconds = bare_loop(images, batch, args.device)
            rows.append((f"bare detector loop, batch {batch}", len(images), seconds, f"model load {load_s:.1f}s"))
        for batch in (args.batch_size, 1):
            n, job_s, detected, detector_s = pipeline(folder, batch, args.device)
            rows.append((f"pipeline: detector step, batch {batch}", detected, detector_s, "RunInference metrics"))
            rows.append((f"pipeline: whole job, batch {batch}", n, job_s, "incl. worker start, model load"))

    bare_rate = rows[0][1] / rows[0][2]
    print(f"\nCount, embedded detector at {EMBEDDED_DEFAULTS['imgsz']} px on {args.device}, {args.images} images, "
          f"{os.cpu_count()} CPUs, one process each")  # fmt: skip
    print(f"{'run':<38} {'images':>7} {'seconds':>8} {'images/s':>9} {'vs bare batched':>16}  note")
    rate = {}
    for name, count, secs, note in rows:
        rate[name] = count / secs
        print(f"{name:<38} {count:>7} {secs:>8.2f} {rate[name]:>9.2f} {rate[name] / bare_rate:>15.2f}x  {note}")
    names = [r[0] for r in rows]
    step, bare, job = rate[names[2]] / rate[names[4]], rate[names[0]] / rate[names[1]], rate[names[3]] / rate[names[5]]
    print(f"\nbatched / unbatched: pipeline detector step {step:.2f}x, bare loop {bare:.2f}x, whole job {job:.2f}x")
    print("Bare loop and detector step both time only the detector call on decoded images (letterbox + network +")
    print("NMS); the whole job also lists, reads, decodes, hashes, de-duplicates, counts and writes the shards.")


if __name__ == "__main__":
    main()
