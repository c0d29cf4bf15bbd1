"""Small matplotlib helpers for the stats/ plots (headless, deterministic file output)."""

import io
from collections.abc import Iterable, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)


def _save(fig: "plt.Figure") -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def bar_png(labels: Sequence[str], counts: Sequence[int], title: str, xlabel: str, horizontal: bool = False) -> bytes:
    height = max(3.0, 0.22 * len(labels)) if horizontal else 3.5
    fig, ax = plt.subplots(figsize=(8, height))
    if horizontal:
        ax.barh(list(labels), list(counts), color="#4c72b0")
        ax.invert_yaxis()
        ax.set_xlabel("examples")
        ax.set_ylabel(xlabel)
    else:
        ax.bar(list(labels), list(counts), color="#4c72b0")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("examples")
        if len(labels) > 12:
            ax.tick_params(axis="x", labelrotation=90, labelsize=7)
    ax.set_title(title)
    return _save(fig)


def histogram_png(values: Iterable[float], bins: int | Sequence[float], title: str, xlabel: str) -> bytes:
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.hist(list(values), bins=bins, color="#4c72b0", edgecolor="white")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("examples")
    return _save(fig)


def heatmap_png(matrix: Sequence[Sequence[float]], title: str, xlabel: str, ylabel: str) -> bytes:
    fig, ax = plt.subplots(figsize=(10, 3.8))
    image = ax.imshow(matrix, aspect="auto", cmap="viridis", interpolation="nearest")
    fig.colorbar(image, ax=ax, label="examples")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return _save(fig)


def bar_grid_png(groups: dict[str, dict[str, int]], title: str, columns: int = 4, top: int = 12) -> bytes:
    """One small bar chart per group (e.g. per categorical feature), in a grid, in one image."""
    names = sorted(groups)
    rows = max(1, -(-len(names) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 2.6 * rows), squeeze=False)
    for ax in axes.flat[len(names) :]:
        ax.axis("off")
    for ax, name in zip(axes.flat, names, strict=False):
        counts = sorted(groups[name].items(), key=lambda kv: -kv[1])[:top]
        ax.barh([label[:22] for label, _ in counts], [n for _, n in counts], color="#4c72b0")
        ax.invert_yaxis()
        ax.set_title(f"{name} ({len(groups[name])} values)", fontsize=9)
        ax.tick_params(labelsize=7)
    fig.suptitle(title)
    return _save(fig)
