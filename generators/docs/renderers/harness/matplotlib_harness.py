"""Runs inside the sandbox server: matplotlib imported once (warm_up), then each job runs main.py.

LLM scripts often end with plt.show() instead of savefig; with the Agg backend that shows nothing,
so if no output.png was written we save the current figure ourselves.
"""

import io
import os

import _user_code
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402, F401  (LLM scripts import it; pay for that here, once)


def warm_up() -> None:
    """Draw one typical chart so fonts, text layout and the PNG writer are loaded before any job forks."""
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(7, 4))
    bars = ax.bar(["North", "South", "East"], [42, 35, 51], color=["#4C72B0", "#DD8452", "#55A868"])
    ax.bar_label(bars)
    ax.plot([0, 1, 2], [30, 40, 35], marker="o", linestyle="--", label="trend")
    ax.set_title("Warm-up chart", fontsize=14, fontweight="bold")
    ax.set_xlabel("Region")
    ax.set_ylabel("Sales ($k)")
    ax.legend()
    ax.grid(True, alpha=0.3)
    ax2.pie([3, 2, 1], labels=["a", "b", "c"], autopct="%1.0f%%")
    ax2.scatter([1, 2], [2, 1])
    fig.tight_layout()
    fig.savefig(io.BytesIO(), format="png", dpi=100, bbox_inches="tight")
    plt.close("all")


def render() -> None:
    _user_code.exec_main()
    if not os.path.exists("output.png") and plt.get_fignums():
        plt.savefig("output.png", dpi=100, bbox_inches="tight")


def run_job() -> int:
    return _user_code.run(render)
