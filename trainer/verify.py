"""Prove the shards are learnable: train a small model for N minutes, evaluate on the held-out split, and
write a markdown report with plots.

    python -m trainer.verify --data OUTPUT --minutes 15 --out runs/verify

The report checks, per subset with a scorer, the headline metric against chance, and for every subset
that the loss with real images is below the loss with blanked images (the model uses the image).
"""

import argparse
import json
import time
from pathlib import Path

import torch

from trainer.config import TrainConfig, load_config
from trainer.data import ShardDataset, build_sources
from trainer.evaluate import CHANCE, evaluate
from trainer.model import VLM
from trainer.preprocess import ExampleBuilder
from trainer.train import train

CHANCE_FACTOR = 3.0  # the headline metric must beat chance by this factor
VISION_MARGIN = 0.02  # "clearly below": the loss with images must be this much (relative) lower
LOADER_FACTOR = 3.0  # one loader process must make batches this many times faster than training eats them


def loader_samples_per_s(model: VLM, data: list[str], batch_size: int, seconds: float = 10.0, seed: int = 0) -> float:
    """Training batches per second of ONE loader process (read, decode, preprocess, collate), measured in this
    process for about `seconds` (at least 4 batches) on the training split, as the trainer's workers make them."""
    builder = ExampleBuilder(model.tokenizer, model.cfg.image, model.cfg.max_seq_len)
    batches = iter(ShardDataset(build_sources(data, "train"), builder, batch_size, seed=seed + 1))
    next(batches)  # opening the files and filling the shuffle buffer is a one-off
    t0, n = time.perf_counter(), 0
    while n < 4 * batch_size or time.perf_counter() - t0 < seconds:
        n += next(batches)["input_ids"].shape[0]
    return n / (time.perf_counter() - t0)


def train_samples_per_s(rows: list[dict]) -> float:
    """The training step's consumption: median samples/s of the logged intervals after the first (warm-up)."""
    rates = sorted(r["samples_per_s"] for r in (rows[1:] or rows))
    return rates[len(rates) // 2] if rates else 0.0


def plot_losses(metrics_path: Path, out: Path) -> str | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(x) for x in metrics_path.read_text().splitlines()] if metrics_path.exists() else []
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([r["step"] for r in rows], [r["loss"] for r in rows])
    ax.set_xlabel("step")
    ax.set_ylabel("train loss (answer tokens)")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out.name


def plot_ablation(metrics: dict, out: Path) -> str | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not metrics:
        return None
    names = sorted(metrics)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], [metrics[n]["loss"] for n in names], 0.4, label="images")
    ax.bar([x + 0.2 for x in xs], [metrics[n]["loss_blank_images"] for n in names], 0.4, label="blanked images")
    ax.set_xticks(list(xs), names)
    ax.set_ylabel("eval loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out.name


def write_report(out: Path, metrics: dict, samples: dict, info: dict) -> tuple[Path, bool]:
    lines = [
        "# Learnability report",
        "",
        f"- data: `{info['data']}`",
        f"- config: `{info['config']}`",
        f"- trained {info['steps']} steps in {info['train_minutes']:.1f} min on {info['device']}",
        f"- evaluated on split `{info['eval_split']}`, up to {info['eval_examples']} rows per subset",
        "",
    ]
    ok = True
    lines += ["## Checks", "", "| subset | check | value | target | pass |", "|---|---|---|---|---|"]
    if info.get("loader_samples_per_s") is not None:
        loader, step = info["loader_samples_per_s"], info["train_samples_per_s"]
        keeps_up = loader >= LOADER_FACTOR * step
        ok &= keeps_up
        lines.append(
            f"| all | loader samples/s (1 process) vs training samples/s | {loader:.1f} vs {step:.1f} | "
            f">= {LOADER_FACTOR:g}x | {'yes' if keeps_up else 'NO'} |"
        )
    for subset, m in sorted(metrics.items()):
        vision = m["loss"] < (1 - VISION_MARGIN) * m["loss_blank_images"]
        ok &= vision
        lines.append(
            f"| {subset} | eval loss with images vs blanked images | {m['loss']:.3f} vs "
            f"{m['loss_blank_images']:.3f} | {VISION_MARGIN:.0%} lower | {'yes' if vision else 'NO'} |"
        )
        if subset in CHANCE and CHANCE[subset][0] in m:
            key, chance = CHANCE[subset]
            passed = m[key] >= CHANCE_FACTOR * chance
            ok &= passed
            lines.append(
                f"| {subset} | {key} | {m[key]:.3f} | >= {CHANCE_FACTOR:g} x chance "
                f"({CHANCE_FACTOR * chance:.3f}) | {'yes' if passed else 'NO'} |"
            )
    lines += ["", "## Metrics", ""]
    for subset, m in sorted(metrics.items()):
        lines += [f"### {subset}", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in sorted(m.items())]
        lines.append("")
    for name, title in (("loss.png", "Training loss"), ("ablation.png", "Vision ablation")):
        if (out / name).exists():
            lines += [f"## {title}", "", f"![{title}]({name})", ""]
    lines += ["## Sample predictions", ""]
    for subset, rows in sorted(samples.items()):
        lines += [f"### {subset}", "", "| prompt | target | prediction |", "|---|---|---|"]
        for r in rows[:8]:
            cells = [str(r[k]).replace("|", "\\|").replace("\n", " ")[:120] for k in ("prompt", "target", "prediction")]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["", f"**Overall: {'PASS' if ok else 'FAIL'}**", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path, ok


def verify(
    data: list[str],
    minutes: float,
    config: str,
    out: str,
    eval_examples: int = 200,
    batch_size: int = 32,
    num_workers: int = 1,
    seed: int = 0,
) -> tuple[Path, dict]:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    model_cfg, train_over = load_config(config)
    cfg = TrainConfig(
        **{
            "batch_size": batch_size,
            "num_workers": num_workers,
            "log_every": 5,
            "lr": 1e-3,
            "connector_lr": 2e-3,
            "warmup": 30,
            "connector_warmup": 10,
            "seed": seed,
            "shuffle_buffer": 1024,
            **train_over,
            "data": data,
            "out": str(out_dir / "train"),
            "max_minutes": minutes,
        }
    )
    if "steps" not in train_over:
        cfg.steps = 10**7  # the time budget ends the run; the LR schedule follows the estimated end
    cfg.save_every = cfg.steps
    t0 = time.time()
    rows = train(model_cfg, cfg, resume=None, progress=True)
    train_minutes = (time.time() - t0) / 60

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = VLM.from_pretrained(Path(cfg.out) / "final", device=device)
    split = "validation"
    try:
        sources = build_sources(data, split)
    except FileNotFoundError:
        split = "test"
        sources = build_sources(data, split)
    metrics, samples = evaluate(model, sources, batch_size=batch_size, max_examples=eval_examples, device=device)
    # One loader process alone, for a tenth of the training time (at most 10 s).
    loader = loader_samples_per_s(model, data, cfg.batch_size, seconds=min(10.0, 6.0 * minutes), seed=seed)
    plot_losses(Path(cfg.out) / "metrics.jsonl", out_dir / "loss.png")
    plot_ablation(metrics, out_dir / "ablation.png")
    info = {
        "data": " ".join(data),
        "config": config,
        "steps": rows[-1]["step"] if rows else 0,
        "train_minutes": train_minutes,
        "device": device,
        "eval_split": split,
        "eval_examples": eval_examples,
        "loader_samples_per_s": loader,
        "train_samples_per_s": train_samples_per_s(rows),
    }
    (out_dir / "metrics.json").write_text(json.dumps({"info": info, "metrics": metrics}, indent=2))
    (out_dir / "samples.json").write_text(json.dumps(samples, indent=2))
    report, ok = write_report(out_dir, metrics, samples, info)
    print(f"{'PASS' if ok else 'FAIL'}: report at {report}")
    return report, metrics


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", nargs="+", required=True, help="output root(s) or shard folders/globs")
    p.add_argument("--minutes", type=float, default=15.0)
    p.add_argument("--config", default="small")
    p.add_argument("--out", default="runs/verify")
    p.add_argument("--eval-examples", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=32, help="training batch size (default 32)")
    p.add_argument("--num-workers", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    verify(a.data, a.minutes, a.config, a.out, a.eval_examples, a.batch_size, a.num_workers, a.seed)


if __name__ == "__main__":
    main()
