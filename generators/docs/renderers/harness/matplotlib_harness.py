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

# What LLM scripts import besides pyplot; every job would pay for importing these itself otherwise.
import numpy.random  # noqa: E402, F401  (numpy loads it lazily)
import pandas  # noqa: E402


def warm_up() -> None:
    """Draw typical charts so fonts, text layout, math text, dates and the PNG writer are loaded (each is
    lazy) before any job forks."""
    frame = pandas.DataFrame({"day": pandas.date_range("2024-01-01", periods=3), "value": [1.0, 3.0, 2.0]})
    fig, (ax, ax2, ax3) = plt.subplots(1, 3, figsize=(10, 4))
    ax3.plot(frame["day"], frame["value"])
    ax3.set_xlabel(r"Temperature ($^\circ$C, $\alpha=0.5$)")
    ax3.annotate("peak", xy=(frame["day"][1], 3.0), xytext=(frame["day"][0], 2.5), arrowprops={"arrowstyle": "->"})
    image = ax3.imshow(numpy.random.rand(4, 4), extent=(0, 1, 0, 1))
    fig.colorbar(image, ax=ax3)
    ax3.table(cellText=[["1", "2"]], colLabels=["a", "b"], loc="bottom")
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
