"""Clocks throughput: the whole Beam pipeline vs the bare generator loop vs the image-encoding floor.

Everything runs in this one process tree, on the same machine, in one go, so the ratios compare like with
like. Per-core figures divide by the processes each stage used (bare loop and encoding: 1; pipeline and the
parallel bare loop: --workers). The parallel bare loop makes exactly the pipeline's examples (its shard tasks,
same indices and order: the same faces), so "shard work" compares like with like; it runs before and after
the pipeline and the two are averaged, so a change of load on a shared machine during the run moves both sides
of the ratio. Not a test: nothing here asserts a time.

    .venv/bin/python bench/clocks.py [--examples 4000] [--image-size 448] [--workers N]
        [--synclock PATH/TO/itsabouttime/src/SynClock.py] [--profile]

--synclock runs itsabouttime's `gen_clock()` (plus the same JPEG encode as ours) and our generator in
alternating rounds in this process, both on one core (OpenCV limited to one thread), and prints the ratio.
--profile prints where one sample's and one shard's CPU time goes.
"""

import argparse
import importlib.util
import io
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import beam_runner  # noqa: E402
from generators.clocks import ClockConfig, ClockGenerator  # noqa: E402
from generators.clocks.stages import StageTimes  # noqa: E402
from pipelines.common.shards import ShardTask  # noqa: E402


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def jpeg(pixels: np.ndarray, quality: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


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


def bare_generator(config: ClockConfig, count: int, seed: int) -> tuple[int, float, float]:
    """The generator in a plain loop, one process, consecutive indices (as one shard would run them); wall and
    CPU seconds."""
    generator = ClockGenerator(config)
    start, cpu = time.perf_counter(), time.process_time()
    for index in range(count):
        generator.generate(seed, index)
    return count, time.perf_counter() - start, time.process_time() - cpu


_GENERATORS: dict[ClockConfig, ClockGenerator] = {}


def _generate_task(task: tuple[ClockConfig, int, int, int]) -> tuple[int, float]:
    """One shard's indices in this pool process, with the process's one generator (the pipeline keeps one per
    worker too); images and CPU seconds."""
    config, seed, start, stop = task
    if config not in _GENERATORS:
        _GENERATORS[config] = ClockGenerator(config)
    generator = _GENERATORS[config]
    cpu = time.process_time()
    for index in range(start, stop):
        generator.generate(seed, index)
    return stop - start, time.process_time() - cpu


def pipeline_tasks(args: argparse.Namespace) -> list[ShardTask]:
    """The shard tasks the pipeline run below makes, largest first as GenerateShards deals them."""
    parser, subset = beam_runner._subset_parser("clocks")
    run_args, _ = parser.parse_known_args(["--num-examples", str(args.examples), *image_flags(args)])
    tasks = subset.shard_tasks(run_args)
    return sorted(tasks, key=lambda task: (-len(task), task.split, task.shard))


def bare_parallel(config: ClockConfig, tasks: list[ShardTask], seed: int, workers: int) -> tuple[int, float, float]:
    """The pipeline's own shards (same indices, same order) in `workers` processes, each taking the next shard
    when it is free: the pipeline's work without Beam, rows or Parquet. Wall seconds and the processes' CPU
    seconds."""
    jobs = [(config, seed, task.start, task.stop) for task in tasks]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        pool.map(_generate_task, [(config, seed + 1, 0, 16)] * 2 * workers, chunksize=1)  # imports, fonts
        start = time.perf_counter()
        done = pool.map(_generate_task, jobs, chunksize=1)
    return sum(n for n, _ in done), time.perf_counter() - start, sum(cpu for _, cpu in done)


def image_flags(args: argparse.Namespace) -> list[str]:
    return ["--image-size", str(args.image_size), "--image-format", args.image_format]


def pipeline(args: argparse.Namespace, workers: int) -> tuple[int, float, dict]:
    with tempfile.TemporaryDirectory() as output:
        argv = [
            "clocks", "--output", output, "--num-examples", str(args.examples), "--seed", str(args.seed),
            *image_flags(args), "--workers", str(workers), "--no-progress", "--preview-rows", str(args.preview_rows),
        ]  # fmt: skip
        start, started_at = time.perf_counter(), time.time()
        code = beam_runner.main(argv)
        wall = time.perf_counter() - start
        if code != 0:
            raise SystemExit(f"pipeline run failed with exit code {code}")
        with open(os.path.join(output, "clocks", "manifest.json")) as handle:
            manifest = json.load(handle)
        with open(os.path.join(output, "clocks", "stats", "shards.json")) as handle:
            manifest["shard_stats"] = json.load(handle)
    manifest["bench_started_at"] = started_at
    return manifest["rows"], wall, manifest


def synclock_rounds(path: str, config: ClockConfig, rounds: int, per_round: int) -> dict[str, float]:
    """SynClock's gen_clock() + JPEG and our generate(), in alternating rounds: images/s of CPU and of wall."""
    import cv2  # SynClock's own dependency (OpenCV); only this comparison needs it

    cv2.setNumThreads(1)  # one core each: OpenCV would otherwise spread warpPerspective over all cores
    spec = importlib.util.spec_from_file_location("SynClock", path)
    synclock = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(synclock)
    random.seed(0)
    np.random.seed(0)  # gen_clock draws from the global generators
    generator = ClockGenerator(config)
    next_index = [0]

    def theirs(n: int) -> None:
        for _ in range(n):
            image = synclock.gen_clock()[0]
            jpeg(np.ascontiguousarray(image[:, :, ::-1]), config.jpeg_quality)  # BGR -> RGB, then as ours

    def ours(n: int) -> None:
        for _ in range(n):
            generator.generate(0, next_index[0])
            next_index[0] += 1

    theirs(8)
    ours(8)
    totals = {"synclock_cpu": 0.0, "synclock_wall": 0.0, "ours_cpu": 0.0, "ours_wall": 0.0}
    for _ in range(rounds):
        for name, work in (("synclock", theirs), ("ours", ours)):
            cpu, wall = time.process_time(), time.perf_counter()
            work(per_round)
            totals[f"{name}_cpu"] += time.process_time() - cpu
            totals[f"{name}_wall"] += time.perf_counter() - wall
    return {name: rounds * per_round / seconds for name, seconds in totals.items()}


def sample_profile(config: ClockConfig, count: int, seed: int) -> tuple[StageTimes, int]:
    """CPU time of each generator stage over `count` consecutive samples (face renders included)."""
    generator = ClockGenerator(config)
    for index in range(16):
        generator.generate(seed + 1, index)  # fonts, noise tile, encoder
    generator.stage_times = StageTimes()
    for index in range(count):
        generator.generate(seed, index)
    return generator.stage_times, count


def shard_profile(config: ClockConfig, rows: int, seed: int) -> tuple[StageTimes, dict]:
    """One shard made in this process by the pipeline's own DoFn: the generator's stages and the shard's."""
    from pipelines.clocks import ClockMaker
    from pipelines.common.generated import WriteGeneratedShard
    from pipelines.common.shards import ShardTask
    from schemas import clocks as clocks_schema

    with tempfile.TemporaryDirectory() as staging:
        maker = ClockMaker(config, seed, "bench")
        writer = WriteGeneratedShard(
            "clocks",
            maker,
            clocks_schema.SCHEMA,
            clocks_schema.validate,
            staging,
            validate_shard=clocks_schema.validate_table,
        )
        writer.setup()
        list(writer.process(ShardTask("warmup", 0, 1, 10**6, 10**6 + 16)))
        maker.generator.stage_times = times = StageTimes()
        stats = next(writer.process(ShardTask("train", 0, 1, 0, rows)))
    return times, stats


def print_profiles(config: ClockConfig, args: argparse.Namespace) -> None:
    times, count = sample_profile(config, args.profile_samples, args.seed)
    total = sum(times.seconds.values())
    print(f"\nOne sample, CPU ms over {count} consecutive samples ({load()}): {1000 * total / count:.3f} ms")
    for stage, seconds in sorted(times.seconds.items(), key=lambda item: -item[1]):
        calls = times.calls[stage]
        print(
            f"  {stage:<48} {1000 * seconds / count:7.3f} ms/sample {100 * seconds / total:5.1f}%"
            f"   ({calls} calls, {1000 * seconds / calls:.3f} ms each)"
        )
    generator_times, stats = shard_profile(config, args.profile_rows, args.seed)
    stages = dict(stats["stage_cpu_seconds"])
    generate = sum(generator_times.seconds.values())
    stages["make: generator"] = generate
    stages["make: row building (ids, sha256, provenance)"] = stages.pop("make") - generate
    rows = stats["rows"] + stats["rejected"]
    shard_total = sum(stages.values())
    print(f"\nOne shard of {rows} rows, CPU ms per row ({load()}): {1000 * shard_total / rows:.3f} ms")
    for stage, seconds in sorted(stages.items(), key=lambda item: -item[1]):
        print(f"  {stage:<48} {1000 * seconds / rows:7.3f} ms/row {100 * seconds / shard_total:5.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=4000, help="Examples for the pipeline run.")
    parser.add_argument("--bare-examples", type=int, default=1000, help="Examples for the one-process bare loop.")
    parser.add_argument("--image-size", type=int, default=448)
    parser.add_argument("--image-format", choices=("jpeg", "png"), default="jpeg")
    parser.add_argument("--jpeg-quality", type=int, default=ClockConfig().jpeg_quality)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--preview-rows", type=int, default=36, help="As a user's run (the default) makes.")
    parser.add_argument("--synclock", help="Path to itsabouttime's src/SynClock.py: compare with its gen_clock().")
    parser.add_argument("--synclock-rounds", type=int, default=8)
    parser.add_argument("--profile", action="store_true", help="Also print one sample's and one shard's profile.")
    parser.add_argument("--profile-samples", type=int, default=1600)
    parser.add_argument("--profile-rows", type=int, default=448)
    parser.add_argument("--no-pipeline", action="store_true", help="Only the generator figures.")
    args = parser.parse_args()
    config = ClockConfig(image_size=args.image_size, image_format=args.image_format, jpeg_quality=args.jpeg_quality)
    print(f"start: {load()}", flush=True)

    results = []
    n, seconds = encoding_floor(config, args.bare_examples, args.seed)
    results.append(("encoding only (floor)", n, seconds, 1))
    n, seconds, _ = bare_generator(config, args.bare_examples, args.seed)
    results.append(("bare generator loop", n, seconds, 1))
    tasks = pipeline_tasks(args)
    parallel_n, before, parallel_cpu = bare_parallel(config, tasks, args.seed, args.workers)
    if not args.no_pipeline:
        _, wall, manifest = pipeline(args, args.workers)
        _, after, cpu_after = bare_parallel(config, tasks, args.seed, args.workers)
        parallel_seconds = (before + after) / 2
        parallel_cpu = (parallel_cpu + cpu_after) / 2
    else:
        parallel_seconds = before
    name = f"bare generator, {args.workers} processes at once" + ("" if args.no_pipeline else " (before/after)")
    results.append((name, parallel_n, parallel_seconds, args.workers))
    if not args.no_pipeline:
        rows = manifest["rows"]
        results.append((f"Beam pipeline, whole run ({args.workers} workers)", rows, wall, args.workers))
        job = manifest["timings_s"]["pipeline"]
        results.append((f"Beam pipeline, job only ({args.workers} workers)", rows, job, args.workers))
        # Time inside the shard tasks, spread over the workers: the rate once start-up is paid.
        steady = sum(shard["seconds"] for shard in manifest["shard_stats"]) / args.workers
        results.append((f"Beam pipeline, shard work ({args.workers} workers)", rows, steady, args.workers))
    print(f"end of the timed stages: {load()}", flush=True)

    bare_per_core = results[1][1] / results[1][2]
    print(f"\nClocks {args.image_size}x{args.image_size} {args.image_format}, seed {args.seed}, {os.cpu_count()} CPUs")
    print(f"{'stage':<58} {'images':>7} {'seconds':>8} {'images/s':>9} {'per core':>9} {'vs bare/core':>13}")
    for name, count, secs, cores in results:
        rate = count / secs
        ratio = rate / cores / bare_per_core
        print(f"{name:<58} {count:>7} {secs:>8.2f} {rate:>9.1f} {rate / cores:>9.1f} {ratio:>12.2f}x")
    if not args.no_pipeline:
        parallel_rate = results[2][1] / results[2][2]
        whole, job, steady = (count / secs for _, count, secs, _ in results[3:6])
        print(
            f"\nLike for like (vs the bare loop in as many processes): whole run {whole / parallel_rate:.2f}x, "
            f"job {job / parallel_rate:.2f}x, shard work {steady / parallel_rate:.2f}x."
        )
        timings = manifest["timings_s"]
        shard_seconds = results[5][2]
        print(
            f"Whole run {wall:.2f} s = job {timings['pipeline']:.2f} s (shard work {shard_seconds:.2f} s a worker, the "
            f"rest Beam start-up and the last shards) + reports {timings['reports']:.2f} s (plots, preview, card)."
        )
        shards = manifest["shard_stats"]
        bare_ms = 1000 * parallel_cpu / parallel_n
        shard_ms = 1000 * sum(shard["cpu_seconds"] for shard in shards) / rows
        print(
            f"CPU per image (less sensitive to other load): bare loop in {args.workers} processes {bare_ms:.2f} ms, "
            f"inside the pipeline's shards {shard_ms:.2f} ms: shard work {bare_ms / shard_ms:.2f}x the bare loop."
        )
        first = min(shard["started_at"] for shard in shards) - manifest["bench_started_at"]
        last = max(shard["finished_at"] for shard in shards) - manifest["bench_started_at"]
        ends = {}
        for shard in shards:
            ends[shard["worker"]] = max(ends.get(shard["worker"], 0.0), shard["finished_at"])
        tail = max(ends.values()) - min(ends.values())
        print(
            f"Timeline: the first shard starts {first:.2f} s into the run (options, staging, Beam's workers and "
            f"imports), the last ends at {last:.2f} s; workers finish {tail:.2f} s apart; the job ends at "
            f"{timings['pipeline']:.2f} s."
        )

    if args.synclock:
        rates = synclock_rounds(args.synclock, config, args.synclock_rounds, 100)
        print(f"\nSynClock gen_clock() + JPEG vs ours, {args.synclock_rounds} alternating rounds, one core ({load()}):")
        for clock in ("cpu", "wall"):
            theirs, ours = rates[f"synclock_{clock}"], rates[f"ours_{clock}"]
            ratio = ours / theirs
            print(f"  {clock:<4}: SynClock {theirs:7.1f} img/s, ours {ours:7.1f} img/s, ours/SynClock {ratio:.2f}x")
    if args.profile:
        print_profiles(config, args)


if __name__ == "__main__":
    main()
