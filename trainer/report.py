"""verify's report: `report.md` with the plan, the checks, the metrics, plots and sample predictions."""

import json
from pathlib import Path

import numpy as np

from trainer.evaluate import CHANCE


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_losses(metrics_path: Path, eval_metrics: dict, out: Path) -> str | None:
    """Train loss per logged step (the first fifth of the steps left out of the y range, so the rest, where the
    image starts to matter, is readable),
    each judged subset's final eval loss, and the label prior (the best loss without looking) where known."""
    rows = [json.loads(x) for x in metrics_path.read_text().splitlines()] if metrics_path.exists() else []
    if not rows:
        return None
    plt = _pyplot()
    steps = np.array([r["step"] for r in rows])
    loss = np.array([r["loss"] for r in rows])
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, loss, lw=0.8, alpha=0.4, color="C0")
    width = max(1, len(loss) // 25)
    smooth = np.convolve(loss, np.ones(width) / width, mode="valid")
    ax.plot(steps[width - 1 :], smooth, color="C0", label=f"train loss (mean of {width} logs)")
    shown = [*smooth[len(smooth) // 5 :]]
    for i, (subset, m) in enumerate(sorted(eval_metrics.items())):
        color = f"C{i + 1}"
        ax.scatter([steps[-1]], [m["loss"]], color=color, zorder=3, label=f"{subset} eval loss {m['loss']:.3f}")
        shown.append(m["loss"])
        if "label_prior_loss" in m:
            prior = m["label_prior_loss"]
            ax.axhline(prior, color=color, ls="--", lw=1, label=f"{subset} label prior {prior:.3f}")
            shown.append(prior)
    low, high = min(shown), max(shown)
    ax.set_ylim(low - 0.1 * (high - low + 1e-6), high + 0.1 * (high - low + 1e-6))
    ax.set_xlabel("step")
    ax.set_ylabel("answer loss (nats per token)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out.name


def _label_bars(ax, bars) -> None:
    for bar in bars:
        ax.annotate(
            f"{bar.get_height():.3f}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=7,
        )


def plot_ablation(metrics: dict, out: Path) -> str | None:
    """Eval loss per subset with the real, blanked and shuffled images, values on the bars."""
    if not metrics:
        return None
    plt = _pyplot()
    names = sorted(metrics)
    xs = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(names)), 3.5))
    variants = (("loss", "images"), ("loss_blank_images", "blanked"), ("loss_shuffled_images", "shuffled"))
    for j, (key, label) in enumerate(variants):
        values = [metrics[n].get(key, np.nan) for n in names]
        _label_bars(ax, ax.bar(xs + (j - 1) * 0.27, values, 0.27, label=label))
    ax.set_xticks(xs, names)
    ax.set_ylabel("eval answer loss")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out.name


def plot_headline(metrics: dict, factor: float, out: Path) -> str | None:
    """Each subset's headline metric against its chance level and target, values on the bars."""
    names = [n for n in sorted(metrics) if n in CHANCE and CHANCE[n][0] in metrics[n]]
    if not names:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(4, 1.8 * len(names)), 3.5))
    for i, name in enumerate(names):
        key, chance = CHANCE[name]
        _label_bars(ax, ax.bar([i], [metrics[name][key]], 0.5, color="C0"))
        ax.hlines(chance, i - 0.35, i + 0.35, colors="gray", linestyles=":", label="chance" if i == 0 else None)
        target = factor * chance
        ax.hlines(target, i - 0.35, i + 0.35, colors="C3", linestyles="--", label="target" if i == 0 else None)
    ax.set_xticks(range(len(names)), [f"{n}\n{CHANCE[n][0]}" for n in names])
    top = max(max(metrics[n][CHANCE[n][0]] for n in names), max(factor * CHANCE[n][1] for n in names))
    ax.set_ylim(0, min(1.0, 1.5 * top))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out.name


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def write_report(
    out: Path,
    metrics: dict,
    samples: dict,
    info: dict,
    plans: list,
    checks: list[dict],
    metrics_path: Path,
    chance_factor: float = 3.0,
) -> tuple[Path, bool]:
    """report.md in `out`, with its plots; returns its path and whether every check passed."""
    judged = [p for p in plans if p.judged]
    ok = bool(judged) and all(c["passed"] for c in checks)
    threads = f", {info['threads']} training thread(s)" if info.get("threads") else ""
    stop = " (stopped early by the time limit)" if info["stopped_by_time_limit"] else ""
    lines = [
        "# Learnability report",
        "",
        f"- data: `{info['data']}`",
        f"- config: `{info['config']}`",
        f"- trained {info['steps']} of {info['planned_steps']} steps x batch {info['batch_size']}{stop} on "
        f"{info['device']}{threads}: {info['budget_minutes']:.1f} min of {info['budget_clock']} (limit "
        f"{info['max_minutes']}), {info['train_minutes']:.1f} min wall-clock",
        "- machine load (1/5/15 min) before training: {:.2f} {:.2f} {:.2f}; after: {:.2f} {:.2f} {:.2f}".format(
            *info["load_before"], *info["load_after"]
        ),
        f"- image-only training losses (training only; evaluation scores the generated answers): "
        f"{info.get('training_aids', 'none')}",
        f"- sequences cut at max_seq_len: {info['truncated_in_training']} in training, "
        f"{sum(m.get('truncated', 0) for m in metrics.values())} in evaluation",
        f"- evaluated on up to {info['eval_examples']} held-out rows per subset; subsets with fewer than "
        f"{info['min_eval_rows']} are not judged",
        "",
        "## Subsets",
        "",
    ]
    mix = {m["subset"]: m for m in info["mixture"]}
    rows = []
    for p in plans:
        m = mix.get(p.subset)
        share = f"{m['share']:.1%} ({m['epochs']:.1f} epochs)" if m else "-"
        scored = metrics.get(p.subset, {}).get("n", 0)
        verdict = p.reason or ("PASS" if all(c["passed"] for c in checks if c["subset"] == p.subset) else "FAIL")
        rows.append([p.subset, p.train_rows, share, p.split or "-", p.held_out_rows, scored, verdict])
    lines += _table(
        ["subset", "train rows", "share of draws", "held-out split", "held-out rows", "scored", "verdict"], rows
    )
    lines += ["", "## Checks", ""]
    lines += _table(
        ["subset", "check", "value", "target", "pass"],
        [[c["subset"], c["check"], c["value"], c["target"], "yes" if c["passed"] else "NO"] for c in checks],
    )
    lines += ["", "## Metrics", ""]
    for subset, m in sorted(metrics.items()):
        lines += [f"### {subset}", ""]
        values = [[k, f"{v:.4f}" if isinstance(v, float) else v] for k, v in sorted(m.items())]
        lines += _table(["metric", "value"], values)
        lines.append("")
    plots = (
        (plot_losses(metrics_path, metrics, out / "loss.png"), "Training loss"),
        (plot_headline(metrics, chance_factor, out / "headline.png"), "Headline metric vs chance and target"),
        (plot_ablation(metrics, out / "ablation.png"), "Vision ablation"),
    )
    for name, title in plots:
        if name:
            lines += [f"## {title}", "", f"![{title}]({name})", ""]
    lines += ["## Sample predictions", ""]
    for subset, rows_ in sorted(samples.items()):
        lines += [f"### {subset}", ""]
        cells = [
            [str(r[k]).replace("|", "\\|").replace("\n", " ")[:120] for k in ("prompt", "target", "prediction")]
            for r in rows_[:8]
        ]
        lines += _table(["prompt", "target", "prediction"], cells)
        lines.append("")
    lines += ["", f"**Overall: {'PASS' if ok else 'FAIL'}**", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path, ok
