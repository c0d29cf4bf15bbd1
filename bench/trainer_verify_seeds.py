"""Does the Clocks verdict hold on any seed? `trainer.verify` on 3 data seeds x 2 training seeds, then mean, min
and max per metric, and how many of the runs passed.

    .venv/bin/python bench/trainer_verify_seeds.py --out runs/seeds            # makes the data if missing
    .venv/bin/python bench/trainer_verify_seeds.py --out runs/seeds --parallel 2 --data-seeds 1 2 5

Each data seed is `beam_runner.py clocks --num-examples 6000 --seed S` (as a new user makes it); each run is
`python -m trainer.verify --data DATA/clocks --minutes 15 --seed T` with every other flag at its default. Runs are
separate processes; each row gives the machine's load average before and after the training (from the run's
report) next to the steps it reached (a run that the time limit stops early says so in its report and here). A
run whose folder already holds a finished one (its metrics.json) is read, not repeated, unless `--rerun`: the
table can be completed in parts.
"""

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
METRICS = ("hour_correct", "minute_close", "loss", "loss_blank_images", "loss_shuffled_images", "label_prior_loss")


def make_data(root: Path, seed: int, examples: int) -> Path:
    data = root / f"data_seed{seed}"
    if not (data / "clocks" / "manifest.json").exists():
        cmd = [sys.executable, "beam_runner.py", "clocks", "--output", str(data), "--num-examples", str(examples)]
        subprocess.run([*cmd, "--seed", str(seed), "--no-progress"], cwd=REPO, check=True)
    return data / "clocks"


def run_verify(data: Path, out: Path, seed: int, minutes: float, extra: list[str], rerun: bool) -> dict:
    """One verify run, or the one already in `out` (its metrics.json) unless `rerun`."""
    t0, code = time.time(), 0
    if rerun or not (out / "metrics.json").exists():
        cmd = [sys.executable, "-m", "trainer.verify", "--data", str(data), "--minutes", str(minutes)]
        cmd += ["--seed", str(seed), "--out", str(out), *extra]
        with open(out.with_suffix(".log"), "w") as log:
            code = subprocess.run(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT).returncode
        wall = (time.time() - t0) / 60
    else:
        wall = None  # finished before this bench run: its own report has the times
        print(f"{out}: reusing the finished run (--rerun to repeat it)", flush=True)
    summary = json.loads((out / "metrics.json").read_text()) if code == 0 else {}
    info = summary.get("info", {})
    return {
        "data": data.parent.name,
        "seed": seed,
        "exit": code,
        "pass": summary.get("pass", False),
        "steps": info.get("steps", 0),
        "planned_steps": info.get("planned_steps", 0),
        "budget_minutes": info.get("budget_minutes"),  # what --minutes counts (CPU time on CPU)
        "train_minutes": info.get("train_minutes", 0.0),
        "wall_minutes": wall,
        "threads": info.get("threads"),
        "load_before": (info.get("load_before") or [None])[0],
        "load_after": (info.get("load_after") or [None])[0],
        **{k: summary.get("metrics", {}).get("clocks", {}).get(k) for k in METRICS},
    }


def table(runs: list[dict]) -> str:
    keys = ["steps", "budget_minutes", "train_minutes", "load_before", "load_after", *METRICS]
    lines = ["| run | pass | " + " | ".join(keys) + " |", "|---|---|" + "---|" * len(keys)]
    fmt = lambda v: "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))  # noqa: E731
    for r in runs:
        name = f"{r['data']} / train seed {r['seed']}"
        lines.append(f"| {name} | {'yes' if r['pass'] else 'NO'} | " + " | ".join(fmt(r[k]) for k in keys) + " |")
    for label, agg in (("mean", lambda v: sum(v) / len(v)), ("min", min), ("max", max)):
        cells = []
        for k in keys:
            values = [r[k] for r in runs if r[k] is not None]
            cells.append(fmt(float(agg(values))) if values else "-")
        lines.append(f"| **{label}** | {sum(r['pass'] for r in runs)}/{len(runs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="runs/verify_seeds")
    p.add_argument("--data-seeds", type=int, nargs="+", default=[1, 2, 5])
    p.add_argument("--train-seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--examples", type=int, default=6000)
    p.add_argument("--minutes", type=float, default=15.0)
    p.add_argument("--parallel", type=int, default=1, help="runs at once (each uses one training thread + a loader)")
    p.add_argument("--rerun", action="store_true", help="repeat runs whose folder already holds a finished one")
    p.add_argument("verify_args", nargs="*", help="extra trainer.verify flags, after --")
    a = p.parse_args()
    root = Path(a.out)
    root.mkdir(parents=True, exist_ok=True)
    datas = {s: make_data(root, s, a.examples) for s in a.data_seeds}
    jobs = [(datas[d], root / f"data{d}_seed{t}", t) for d in a.data_seeds for t in a.train_seeds]
    with ThreadPoolExecutor(a.parallel) as pool:
        runs = list(pool.map(lambda j: run_verify(j[0], j[1], j[2], a.minutes, a.verify_args, a.rerun), jobs))
    (root / "runs.json").write_text(json.dumps(runs, indent=2))
    print(table(runs))


if __name__ == "__main__":
    main()
