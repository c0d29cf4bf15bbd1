"""Prove the shards are learnable: train a small model for a fixed number of steps (within a time limit),
evaluate every subset on its held-out split, and write a markdown report with plots.

    python -m trainer.verify --data OUTPUT --minutes 15 --out runs/verify

Before training, every subset found is either planned for judging or given a plain reason why not (no
held-out split, too few held-out rows, no training rows). A judged subset passes when its answer loss with the
real images is clearly below the loss with blanked images and with shuffled images (the model uses the
image), and, where the subset has a chance-based target (Clocks: hour accuracy >= 3x chance), meets it.

Training is reproducible: `--steps` fixes the run (and its LR schedule); `--minutes` only stops it early,
and the report says so. On CPU `--minutes` counts the training process's CPU time, not the wall-clock: on a
machine shared with other work the neighbours decide how long a step takes, not what it computes, so the same
command reaches the same step and the same verdict however busy the machine is (the report gives both).
"""

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from trainer.config import TrainConfig, load_config
from trainer.data import ShardDataset, Source, build_sources, mixture
from trainer.evaluate import CHANCE, evaluate
from trainer.image_labels import training_aids
from trainer.model import VLM
from trainer.preprocess import ExampleBuilder
from trainer.report import write_report
from trainer.train import train

CHANCE_FACTOR = 3.0  # the headline metric must beat chance by this factor
VISION_MARGIN = 0.02  # "clearly below": the loss with images must be this much (relative) lower
LOADER_FACTOR = 3.0  # one loader process must make batches this many times faster than training eats them
MIN_EVAL_ROWS = 50  # fewer held-out rows than this and a subset is not judged (its numbers would be noise)
EVAL_EXAMPLES = 500  # held-out rows scored per subset, at most
# Steps of verify's default training (batch 32), sized to finish inside 15 CPU-minutes even on a busy machine:
# one training thread on this project's 2-core machine takes ~0.55 s of CPU per step when it is quiet and
# 1.04 s at load 12 (the other jobs slow each op too), so 800 steps take 7-14 CPU-minutes.
STEPS = 800

# verify's training settings (a config file's "train" section overrides them).
TRAIN_DEFAULTS = {
    "log_every": 5,
    "lr": 1e-3,
    "connector_lr": 2e-3,
    "warmup": 30,
    "connector_warmup": 10,
    "shuffle_buffer": 1024,
}


@dataclass
class SubsetPlan:
    """What verify will do with one subset, decided before training."""

    subset: str
    train_rows: int
    split: str | None  # the held-out split it is scored on
    held_out_rows: int
    reason: str | None = None  # why it is not judged; None = judged

    @property
    def judged(self) -> bool:
        return self.reason is None


def plan_subsets(data: list[str], min_rows: int) -> tuple[list[Source], dict[str, Source], list[SubsetPlan]]:
    """Training sources, the held-out source of each judged subset, and a plan line for every subset found
    in any split of `data`. Validation is preferred; test is used when validation is missing or too small."""
    train = build_sources(data, "train", required=False)
    held = {
        split: {s.subset: s for s in build_sources(data, split, required=False)} for split in ("validation", "test")
    }
    train_rows = {s.subset: s.num_rows for s in train}
    plans, eval_sources = [], {}
    for subset in sorted(set(train_rows) | set(held["validation"]) | set(held["test"])):
        options = [(split, held[split][subset]) for split in ("validation", "test") if subset in held[split]]
        enough = [(split, src) for split, src in options if src.num_rows >= min_rows]
        split, src = (enough or sorted(options, key=lambda o: -o[1].num_rows) or [(None, None)])[0]
        rows = src.num_rows if src is not None else 0
        plan = SubsetPlan(subset, train_rows.get(subset, 0), split, rows)
        if subset not in train_rows:
            plan.reason = f"not judged: no training rows ({rows} held-out rows)"
        elif src is None:
            plan.reason = f"not judged: 0 held-out rows (no validation or test split), need {min_rows}"
        elif rows < min_rows:
            plan.reason = f"not judged: {rows} held-out rows, need {min_rows}"
        else:
            eval_sources[subset] = src
        plans.append(plan)
    return train, eval_sources, plans


def loader_samples_per_s(
    model: VLM, sources: list[Source], batch_size: int, seconds: float = 10.0, seed: int = 0
) -> float:
    """Training batches per second of ONE loader process (read, decode, preprocess, collate), measured in this
    process for about `seconds` (at least 4 batches) on the training split, as the trainer's workers make them."""
    builder = ExampleBuilder(model.tokenizer, model.cfg.image, model.cfg.max_seq_len)
    batches = iter(ShardDataset(sources, builder, batch_size, seed=seed + 1, buffer=batch_size))
    next(batches)  # opening the files and filling the shuffle buffer is a one-off
    t0, n = time.perf_counter(), 0
    while n < 4 * batch_size or time.perf_counter() - t0 < seconds:
        n += next(batches)["input_ids"].shape[0]
    return n / (time.perf_counter() - t0)


def train_samples_per_s(rows: list[dict]) -> float:
    """The training step's consumption: median samples/s of the logged intervals after the first (warm-up)."""
    rates = sorted(r["samples_per_s"] for r in (rows[1:] or rows))
    return rates[len(rates) // 2] if rates else 0.0


def judge(metrics: dict, plans: list[SubsetPlan], loader: float | None, step_rate: float) -> list[dict]:
    """The checks, one dict per (subset, check): value, target, passed."""
    checks = []
    if loader is not None:
        checks.append(
            {
                "subset": "all",
                "check": "loader samples/s (1 process) vs training samples/s",
                "value": f"{loader:.1f} vs {step_rate:.1f}",
                "target": f">= {LOADER_FACTOR:g}x",
                "passed": loader >= LOADER_FACTOR * step_rate,
            }
        )
    for plan in plans:
        if not plan.judged:
            continue
        m = metrics[plan.subset]
        for key, name in (("loss_blank_images", "blanked"), ("loss_shuffled_images", "shuffled")):
            if key in m:
                checks.append(
                    {
                        "subset": plan.subset,
                        "check": f"eval loss with images vs {name} images",
                        "value": f"{m['loss']:.3f} vs {m[key]:.3f}",
                        "target": f"{VISION_MARGIN:.0%} lower",
                        "passed": m["loss"] < (1 - VISION_MARGIN) * m[key],
                    }
                )
        if plan.subset in CHANCE:
            key, chance = CHANCE[plan.subset]
            checks.append(
                {
                    "subset": plan.subset,
                    "check": key,
                    "value": f"{m.get(key, 0.0):.3f}",
                    "target": f">= {CHANCE_FACTOR:g} x chance ({CHANCE_FACTOR * chance:.3f})",
                    "passed": m.get(key, 0.0) >= CHANCE_FACTOR * chance,
                }
            )
    return checks


def verify(
    data: list[str],
    minutes: float | None,
    config: str,
    out: str,
    eval_examples: int | None = EVAL_EXAMPLES,
    batch_size: int = 32,
    num_workers: int = 1,
    seed: int = 0,
    steps: int | None = None,
    min_eval_rows: int = MIN_EVAL_ROWS,
    threads: int | None = None,
) -> tuple[Path, dict]:
    """Plan, train, evaluate, report. Returns the report's path and the per-subset metrics."""
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    train_sources, eval_sources, plans = plan_subsets(data, min_eval_rows)
    if not train_sources:
        raise SystemExit(f"verify: no train shards under {' '.join(data)}")
    print("verify plan:")
    for plan in plans:
        print(f"  {plan.subset}: {plan.train_rows} train rows; {plan.reason or f'judged on {plan.split}'}")

    model_cfg, train_over = load_config(config)
    settings = {**TRAIN_DEFAULTS, "steps": STEPS, **train_over}
    if steps is not None:
        settings["steps"] = steps
    if threads is not None:
        settings["threads"] = threads
    cfg = TrainConfig(
        **{
            **settings,
            "batch_size": batch_size,
            "num_workers": num_workers,
            "seed": seed,
            "data": data,
            "out": str(out_dir / "train"),
            "max_minutes": minutes,
        }
    )
    cfg.save_every = cfg.steps
    load_before = os.getloadavg()
    t0 = time.time()
    rows = train(model_cfg, cfg, resume=None, progress=True)
    train_minutes = (time.time() - t0) / 60
    load_after = os.getloadavg()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = VLM.from_pretrained(Path(cfg.out) / "final", device=device)
    judged = [eval_sources[p.subset] for p in plans if p.judged]
    metrics, samples = evaluate(model, judged, batch_size=batch_size, max_examples=eval_examples, device=device)
    # One loader process alone, for a tenth of the training time (at most 10 s).
    loader = loader_samples_per_s(model, train_sources, cfg.batch_size, seconds=min(10.0, 6.0 * train_minutes))
    step_rate = train_samples_per_s(rows)
    checks = judge(metrics, plans, loader, step_rate)
    steps_done = rows[-1]["step"] if rows else 0
    info = {
        "data": " ".join(data),
        "config": config,
        "steps": steps_done,
        "planned_steps": cfg.steps,
        "batch_size": cfg.batch_size,
        "stopped_by_time_limit": steps_done < cfg.steps,
        "train_minutes": train_minutes,
        "budget_minutes": rows[-1].get("budget_s", 0.0) / 60 if rows else 0.0,
        "budget_clock": "CPU time of the training process" if device == "cpu" else "wall-clock",
        "max_minutes": minutes,
        "device": device,
        "threads": cfg.threads if device == "cpu" else None,
        "load_before": load_before,
        "load_after": load_after,
        "eval_examples": eval_examples,
        "min_eval_rows": min_eval_rows,
        "loader_samples_per_s": loader,
        "train_samples_per_s": step_rate,
        "truncated_in_training": sum(r.get("truncated", 0) for r in rows),
        "mixture": mixture(train_sources, cfg.steps * cfg.batch_size * cfg.grad_accum),
        "training_aids": training_aids(
            model_cfg.image_aux_weight,
            model_cfg.aux_kind,
            model_cfg.label_aux_weight,
            [src.subset for src in train_sources],
        ),
    }
    metrics_path = Path(cfg.out) / "metrics.jsonl"
    report, ok = write_report(out_dir, metrics, samples, info, plans, checks, metrics_path, CHANCE_FACTOR)
    summary = {"info": info, "plans": [vars(p) for p in plans], "checks": checks, "metrics": metrics, "pass": ok}
    (out_dir / "metrics.json").write_text(json.dumps(summary, indent=2))
    (out_dir / "samples.json").write_text(json.dumps(samples, indent=2))
    print(f"{'PASS' if ok else 'FAIL'}: report at {report}")
    return report, metrics


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", nargs="+", required=True, help="output root(s) or shard folders/globs, optionally =RATE")
    p.add_argument(
        "--minutes",
        type=float,
        default=15.0,
        help="time limit (on CPU: the training process's CPU minutes); stops training early, never reshapes it",
    )
    p.add_argument("--steps", type=int, default=None, help=f"training steps (default {STEPS}, or the config's)")
    p.add_argument("--config", default="small")
    p.add_argument("--out", default="runs/verify")
    p.add_argument("--eval-examples", type=int, default=EVAL_EXAMPLES, help="held-out rows scored per subset, at most")
    p.add_argument("--min-eval-rows", type=int, default=MIN_EVAL_ROWS, help="fewer held-out rows: not judged")
    p.add_argument("--batch-size", type=int, default=32, help="training batch size (default 32)")
    p.add_argument("--num-workers", type=int, default=1)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads for training (default 1)")
    p.add_argument("--seed", type=int, default=0, help="training seed (model init and data order)")
    a = p.parse_args(argv)
    try:
        verify(
            a.data,
            a.minutes,
            a.config,
            a.out,
            a.eval_examples,
            a.batch_size,
            a.num_workers,
            a.seed,
            steps=a.steps,
            min_eval_rows=a.min_eval_rows,
            threads=a.threads,
        )
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f"verify: {e}")


if __name__ == "__main__":
    main()
