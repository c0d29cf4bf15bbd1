"""Clocks throughput: the whole Beam pipeline vs the bare generator loop vs the image-encoding floor.

All three run in this one process tree, on the same machine, one after another, so the ratios compare like
with like. Per-core figures divide by the processes each stage used (bare loop and encoding: 1; pipeline:
--workers). Not a test: nothing here asserts a time.

    .venv/bin/python bench/clocks.py [--examples 4000] [--image-size 448] [--image-format jpeg] [--workers N]
"""

import argparse
import io
import json
import multiprocessing
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import beam_runner  # noqa: E402
from generators.clocks import ClockConfig, ClockGenerator  # noqa: E402


def encoding_floor(config: ClockConfig, count: int, seed: int) -> tuple[int, float]:
    """Encode already-rendered pixels only: what any generator pays per image at this size and format."""
    generator = ClockGenerator(config)
    pixels = [
        np.asarray(Image.open(io.BytesIO(generator.generate(seed, i).image_bytes)).convert("RGB")) for i in range(64)
    ]
    start = time.perf_counter()
    for i in range(count):
        buffer = io.BytesIO()
        image = Image.fromarray(pixels[i % len(pixels)])
        if config.image_format == "jpeg":
            image.save(buffer, "JPEG", quality=config.jpeg_quality)
        else:
            image.save(buffer, "PNG")
    return count, time.perf_counter() - start


def bare_generator(config: ClockConfig, count: int, seed: int) -> tuple[int, float]:
    """The generator in a plain loop, one process, consecutive indices (as one shard would run them)."""
    generator = ClockGenerator(config)
    start = time.perf_counter()
    for index in range(count):
        generator.generate(seed, index)
    return count, time.perf_counter() - start


def _generate_block(block: tuple[ClockConfig, int, int, int]) -> int:
    config, seed, start, stop = block
    generator = ClockGenerator(config)
    for index in range(start, stop):
        generator.generate(seed, index)
    return stop - start


def bare_parallel(config: ClockConfig, count: int, seed: int, workers: int) -> tuple[int, float]:
    """The bare loop in `workers` processes at once: what the machine's cores really give together."""
    per = count // workers
    blocks = [(config, seed, w * per, (w + 1) * per) for w in range(workers)]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        pool.map(_generate_block, [(config, seed, 0, 16)] * workers)  # warm up imports and fonts
        start = time.perf_counter()
        done = sum(pool.map(_generate_block, blocks))
    return done, time.perf_counter() - start


def pipeline(args: argparse.Namespace, workers: int) -> tuple[int, float, dict]:
    with tempfile.TemporaryDirectory() as output:
        argv = [
            "clocks", "--output", output, "--num-examples", str(args.examples), "--seed", str(args.seed),
            "--image-size", str(args.image_size), "--image-format", args.image_format,
            "--workers", str(workers), "--no-progress", "--preview-rows", "0",
        ]  # fmt: skip
        start = time.perf_counter()
        code = beam_runner.main(argv)
        wall = time.perf_counter() - start
        if code != 0:
            raise SystemExit(f"pipeline run failed with exit code {code}")
        with open(os.path.join(output, "clocks", "manifest.json")) as handle:
            manifest = json.load(handle)
        with open(os.path.join(output, "clocks", "stats", "shards.json")) as handle:
            manifest["shard_seconds"] = sum(shard["seconds"] for shard in json.load(handle))
    return manifest["rows"], wall, manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=4000, help="Examples for the pipeline run.")
    parser.add_argument("--bare-examples", type=int, default=1000, help="Examples for the bare loop.")
    parser.add_argument("--image-size", type=int, default=448)
    parser.add_argument("--image-format", choices=("jpeg", "png"), default="jpeg")
    parser.add_argument("--jpeg-quality", type=int, default=ClockConfig().jpeg_quality)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    config = ClockConfig(image_size=args.image_size, image_format=args.image_format, jpeg_quality=args.jpeg_quality)

    results = []
    n, seconds = encoding_floor(config, args.bare_examples, args.seed)
    results.append(("encoding only (floor)", n, seconds, 1))
    n, seconds = bare_generator(config, args.bare_examples, args.seed)
    results.append(("bare generator loop", n, seconds, 1))
    n, seconds = bare_parallel(config, args.bare_examples * args.workers, args.seed, args.workers)
    results.append((f"bare generator, {args.workers} processes at once", n, seconds, args.workers))
    n, seconds, manifest = pipeline(args, args.workers)
    results.append((f"Beam pipeline, whole run ({args.workers} workers)", n, seconds, args.workers))
    beam_only = manifest["timings_s"]["pipeline"]
    results.append((f"Beam pipeline, job only ({args.workers} workers)", n, beam_only, args.workers))
    # Time inside the shard tasks, spread over the workers: the rate once start-up is paid.
    steady = manifest["shard_seconds"] / args.workers
    results.append((f"Beam pipeline, shard work ({args.workers} workers)", n, steady, args.workers))

    bare_per_core = results[1][1] / results[1][2]
    print(f"\nClocks {args.image_size}x{args.image_size} {args.image_format}, seed {args.seed}, {os.cpu_count()} CPUs")
    print(f"{'stage':<42} {'images':>7} {'seconds':>8} {'images/s':>9} {'per core':>9} {'vs bare/core':>13}")
    for name, count, secs, cores in results:
        rate = count / secs
        ratio = rate / cores / bare_per_core
        print(f"{name:<42} {count:>7} {secs:>8.2f} {rate:>9.1f} {rate / cores:>9.1f} {ratio:>12.2f}x")
    parallel_rate = results[2][1] / results[2][2]
    job_rate = results[-2][1] / results[-2][2]
    steady_rate = results[-1][1] / results[-1][2]
    print(
        f"\nLike for like (vs the bare loop in as many processes): job {job_rate / parallel_rate:.2f}x, "
        f"shard work {steady_rate / parallel_rate:.2f}x."
    )
    print("'job only' excludes the reports written after the job (stats plots, preview, card, manifest);")
    print("'shard work' also excludes Beam's start-up (worker processes, job service): a fixed cost per run.")


if __name__ == "__main__":
    main()
