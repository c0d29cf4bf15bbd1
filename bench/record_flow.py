"""The record-flow skeleton against the code before it, in one run on the same inputs.

For each code version (BEFORE: a git revision checked out into a temporary worktree; AFTER: this checkout) and each
subset (count on N images, cap on its espeak-ng sample), two runs with the same arguments:
  * timed: the whole `beam_runner.py SUBSET` command, wall seconds (start-up, model loads, job, reports);
  * measured: the same command with every GroupByKey's input tapped (the element pickled and its size added to a
    Beam counter), so "shuffled" is the bytes that went into shuffles (Reshuffle and CoGroupByKey are GroupByKeys
    inside), per input. Taps slow a run down, so they never run in the timed one.
Each run is a fresh process with a fresh output folder, one after another. Not a test: nothing asserts a time.

    .venv/bin/python bench/record_flow.py [--before 0d5f509] [--images 200] [--workers 2] [--skip cap]
"""

import argparse
import json
import os
import pickle
import random
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_BEFORE = "0d5f509"  # main just before the skeleton landed


def make_images(folder: str, count: int, seed: int) -> None:
    """Distinct random crops (60-100% of each side, some mirrored) of the bundled photos, as JPEGs."""
    sys.path.insert(0, REPO)
    from PIL import Image, ImageOps

    from media.samples import bundled_images_dir

    assets = bundled_images_dir()
    if assets is None:
        raise SystemExit("ultralytics is not installed: its bundled photos are the benchmark's images")
    sources = [Image.open(os.path.join(assets, name)).convert("RGB") for name in ("bus.jpg", "zidane.jpg")]
    rng = random.Random(seed)
    for i in range(count):
        image = sources[i % 2]
        w, h = image.size
        cw, ch = int(w * rng.uniform(0.6, 1.0)), int(h * rng.uniform(0.6, 1.0))
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        crop = image.crop((x, y, x + cw, y + ch))
        (ImageOps.mirror(crop) if rng.random() < 0.5 else crop).save(
            os.path.join(folder, f"img{i:05d}.jpg"), quality=90
        )


def child(tree: str, tap: bool, out_json: str, argv: list[str]) -> None:
    """Run `beam_runner.main(argv)` from `tree`; with `tap`, count the pickled bytes entering every GroupByKey."""
    sys.path.insert(0, tree)
    os.chdir(tree)
    import apache_beam as beam
    from apache_beam.metrics import Metrics
    from apache_beam.metrics.metric import MetricsFilter
    from apache_beam.pipeline import PipelineVisitor
    from apache_beam.transforms.core import GroupByKey

    import beam_runner

    results: list = []
    original = beam.Pipeline.run

    def measure(element, label):
        Metrics.counter("bench.shuffle", label).inc(len(pickle.dumps(element, protocol=5)))

    def run(self, *args, **kwargs):
        if tap:
            found = []

            class FindShuffles(PipelineVisitor):
                def visit_transform(self, node):
                    if isinstance(node.transform, GroupByKey):
                        found.append((node.full_label, node.inputs[0]))

            self.visit(FindShuffles())
            for i, (label, pcoll) in enumerate(found):
                _ = pcoll | f"BenchTap{i}" >> beam.Map(measure, label)
        result = original(self, *args, **kwargs)
        results.append(result)
        return result

    beam.Pipeline.run = run
    start = time.perf_counter()
    code = beam_runner.main(argv)
    seconds = time.perf_counter() - start
    shuffled: dict[str, int] = {}
    if tap and results:
        for counter in results[-1].metrics().query(MetricsFilter().with_namespace("bench.shuffle"))["counters"]:
            shuffled[counter.key.metric.name] = counter.committed
    with open(out_json, "w") as handle:
        json.dump({"code": code, "seconds": seconds, "shuffled": shuffled}, handle)


def run_version(tree: str, argv: list[str], tap: bool) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        out_json = os.path.join(scratch, "result.json")
        output = os.path.join(scratch, "out")
        command = [sys.executable, os.path.abspath(__file__), "--child", tree, "--out", out_json]
        command += ["--tap"] if tap else []
        command += ["--", *argv, "--output", output]
        subprocess.run(command, cwd=tree, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out_json) as handle:
            result = json.load(handle)
        manifest_path = os.path.join(output, argv[0], "manifest.json")
        if os.path.exists(manifest_path):
            with open(manifest_path) as handle:
                manifest = json.load(handle)
            result["rows"], result["rejected"] = manifest["rows"], manifest["rejected"]
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=DEFAULT_BEFORE, help="git revision of the code to compare with")
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip", default="", help="comma-separated: count, cap, taps")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--tap", action="store_true", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.child:
        child(args.child, args.tap, args.out, [a for a in rest if a != "--"])
        return
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    with tempfile.TemporaryDirectory() as scratch:
        before = os.path.join(scratch, "before")
        subprocess.run(["git", "-C", REPO, "worktree", "add", "--detach", before, args.before], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            images = os.path.join(scratch, "images")
            os.makedirs(images)
            make_images(images, args.images, seed=0)
            common = ["--workers", str(args.workers), "--no-progress", "--preview-rows", "4"]
            jobs = []
            if "count" not in skip:
                count_argv = ["count", "--input", images, "--splits", "train=1", "--device", "cpu", *common]
                jobs.append(("count", args.images, count_argv))
            if "cap" not in skip:
                jobs.append(("cap", 2, ["cap", *common]))  # the sample: 2 images, 3 recordings
            rows = []
            for subset, inputs, argv in jobs:
                for version, tree in (("before", before), ("after", REPO)):
                    timed = run_version(tree, argv + (["--publish-anyway"] if version == "after" else []), False)
                    tapped = {"shuffled": {}} if "taps" in skip else run_version(tree, argv + (
                        ["--publish-anyway"] if version == "after" else []), True)  # fmt: skip
                    rows.append((subset, version, inputs, timed, sum(tapped["shuffled"].values())))
        finally:
            subprocess.run(["git", "-C", REPO, "worktree", "remove", "--force", before], check=False)
    load = os.getloadavg()[0]
    print(f"\nRecord flow before ({args.before}) and after, {args.workers} workers, load {load:.1f}, same inputs\n")
    print(
        f"{'subset':<7} {'code':<7} {'inputs':>6} {'rows':>5} {'seconds':>8} {'vs before':>10} {'shuffled/input':>15}"
    )
    base: dict[str, tuple[float, int]] = {}
    for subset, version, inputs, timed, shuffled in rows:
        per_input = shuffled / inputs if shuffled else 0
        if version == "before":
            base[subset] = (timed["seconds"], per_input)
        ratio = base[subset][0] / timed["seconds"] if timed["seconds"] else float("nan")
        bytes_text = f"{per_input / 1e3:,.1f} kB" if per_input else "-"
        print(f"{subset:<7} {version:<7} {inputs:>6} {timed.get('rows', '?'):>5} {timed['seconds']:>8.1f} "
              f"{ratio:>9.2f}x {bytes_text:>15}")  # fmt: skip
    print("\nvs before: the old code's seconds / these seconds (above 1 = faster). shuffled/input: pickled bytes")
    print("entering GroupByKeys (incl. Reshuffle, CoGroupByKey) per input image.")


if __name__ == "__main__":
    main()
