"""Docs renderer throughput, two tables.

    .venv/bin/python bench/docs_render.py [--repeats N] [--renderers html,mermaid,plotly] [--tables sandbox,reuse]

"sandbox": for each Python renderer (matplotlib, plotly), ms per image of the sandboxed renderer (a warm
sandbox server, one fresh fork per image) against exec'ing the same code in this process with no
isolation at all (as CoSyn does), through the same harness and the same post-processing (kaleido for
plotly, PNG normalisation), interleaved in the same run. The ratio is the price of isolation.

"reuse": for each renderer, renders its known-good example N times with one started renderer ("reused"),
then N times starting and closing a fresh one per image ("per launch": a new Chromium for html/mermaid, a
new kaleido server for plotly, a new warm sandbox server for matplotlib/plotly). "plotly-json" isolates
the kaleido step (figure JSON -> PNG), without the sandboxed Python run.
Not a test: numbers depend on the machine and on what else runs on it (the load is printed).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generators.docs.chromium import BrowserHost  # noqa: E402
from generators.docs.renderers import RENDERERS, get_renderer, renderer_class  # noqa: E402
from generators.docs.renderers.base import normalize_png  # noqa: E402
from generators.docs.renderers.examples import GOOD  # noqa: E402
from generators.docs.renderers.render_plotly import (  # noqa: E402
    PlotlyRenderer,
    figure_to_png,
    start_kaleido_server,
    stop_kaleido_server,
)
from generators.docs.sandbox import capabilities  # noqa: E402

BROWSER_RENDERERS = {"html", "mermaid"}
PYTHON_RENDERERS = ["matplotlib", "plotly"]
HARNESS_DIR = Path(__file__).resolve().parents[1] / "generators/docs/renderers/harness"


def fresh_renderer(name: str):
    """A renderer that owns everything it starts (its own browser), so close() really tears it down."""
    if name in BROWSER_RENDERERS:
        return renderer_class(name)(host=BrowserHost())
    return get_renderer(name)


def timed(fn: Callable[[], bool], repeats: int) -> float:
    """Images per second over `repeats` calls; every call must succeed."""
    start = time.monotonic()
    for _ in range(repeats):
        if not fn():
            raise RuntimeError("render failed during the benchmark")
    return repeats / (time.monotonic() - start)


def bench_renderer(name: str, repeats: int) -> tuple[float, float]:
    code = GOOD[name]
    r = fresh_renderer(name)
    r.start()
    r.render(code)  # warm caches (fonts, page) so the first timed render is typical
    reused = timed(lambda: r.render(code).ok, repeats)
    r.close()

    def per_launch() -> bool:
        one = fresh_renderer(name)
        one.start()
        ok = one.render(code).ok
        one.close()
        return ok

    return reused, timed(per_launch, repeats)


def bench_plotly_json(repeats: int) -> tuple[float, float]:
    figure = PlotlyRenderer().figure_json(GOOD["plotly"], timeout_s=60)
    start_kaleido_server()
    figure_to_png(figure)
    reused = timed(lambda: bool(figure_to_png(figure)), repeats)
    stop_kaleido_server()
    return reused, timed(lambda: bool(figure_to_png(figure, reuse_server=False)), repeats)


def in_process(name: str) -> Callable[[str], bytes]:
    """Exec `code` in this very process through the renderer's own harness: no sandbox at all."""
    sys.path.insert(0, str(HARNESS_DIR))
    harness = importlib.import_module(f"{name}_harness")
    if name == "plotly":
        start_kaleido_server()

    def render(code: str) -> bytes:
        cwd = os.getcwd()
        with tempfile.TemporaryDirectory() as tmp:
            os.chdir(tmp)
            try:
                Path("main.py").write_text(code)
                harness.render()
                if name == "matplotlib":
                    harness.plt.close("all")
                    png = Path("output.png").read_bytes()
                else:
                    png = figure_to_png(json.loads(Path("figure.json").read_text()))
            finally:
                os.chdir(cwd)
        return normalize_png(png)

    return render


def bench_sandbox_overhead(name: str, repeats: int) -> tuple[float, float]:
    """Median ms per image: (sandboxed renderer, in-process exec), measured alternately."""
    code = GOOD[name]
    renderer = get_renderer(name)
    renderer.start()
    direct = in_process(name)
    sandboxed_ms, direct_ms = [], []
    for i in range(repeats + 1):
        start = time.monotonic()
        res = renderer.render(code)
        if not res.ok:
            raise RuntimeError(f"{name} failed in the sandbox: {res.error}")
        middle = time.monotonic()
        direct(code)
        end = time.monotonic()
        if i:  # the first round warms caches on both sides
            sandboxed_ms.append(1000 * (middle - start))
            direct_ms.append(1000 * (end - middle))
    renderer.close()
    return statistics.median(sandboxed_ms), statistics.median(direct_ms)


def load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="images per renderer and mode")
    parser.add_argument(
        "--renderers",
        default=",".join([*RENDERERS, "plotly-json"]),
        help="comma-separated subset (plus plotly-json)",
    )
    parser.add_argument("--tables", default="sandbox,reuse", help="sandbox, reuse, or both (comma-separated)")
    args = parser.parse_args()
    names = [n for n in args.renderers.split(",") if n]
    tables = set(args.tables.split(","))
    if "sandbox" in tables:
        print(f"sandbox layers: {capabilities().describe()}; {load()}")
        print(f"{'renderer':<12} {'sandboxed ms/img':>17} {'in-process ms/img':>18} {'ratio':>7}")
        for name in [n for n in PYTHON_RENDERERS if n in names]:
            sandboxed, direct = bench_sandbox_overhead(name, args.repeats)
            print(f"{name:<12} {sandboxed:>17.1f} {direct:>18.1f} {sandboxed / direct:>6.2f}x  ({load()})", flush=True)
    if "reuse" in tables:
        print(f"{'renderer':<12} {'reused img/s':>13} {'per-launch img/s':>17} {'ratio':>7}  ({load()})")
        for name in names:
            reused, launched = (
                bench_plotly_json(args.repeats) if name == "plotly-json" else bench_renderer(name, args.repeats)
            )
            print(f"{name:<12} {reused:>13.2f} {launched:>17.2f} {reused / launched:>6.1f}x", flush=True)


if __name__ == "__main__":
    main()
