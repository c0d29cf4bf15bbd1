"""Docs renderer throughput: a reused browser / kaleido server versus launching one per image.

    .venv/bin/python bench/docs_render.py [--repeats N] [--renderers html,mermaid,plotly]

For each renderer, renders its known-good example N times with one started renderer ("reused"), then N
times starting and closing a fresh one per image ("per launch": a new Chromium for html/mermaid, a new
kaleido server for plotly; the sandbox renderers have nothing to reuse beyond matplotlib's font cache).
"plotly-json" isolates the kaleido step (figure JSON -> PNG), without the sandboxed Python run.
Not a test: numbers depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generators.docs.chromium import BrowserHost  # noqa: E402
from generators.docs.renderers import RENDERERS, get_renderer, renderer_class  # noqa: E402
from generators.docs.renderers.examples import GOOD  # noqa: E402
from generators.docs.renderers.render_plotly import (  # noqa: E402
    PlotlyRenderer,
    figure_to_png,
    start_kaleido_server,
    stop_kaleido_server,
)

BROWSER_RENDERERS = {"html", "mermaid"}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="images per renderer and mode")
    parser.add_argument(
        "--renderers",
        default=",".join([*RENDERERS, "plotly-json"]),
        help="comma-separated subset (plus plotly-json)",
    )
    args = parser.parse_args()
    names = [n for n in args.renderers.split(",") if n]
    print(f"{'renderer':<12} {'reused img/s':>13} {'per-launch img/s':>17} {'ratio':>7}")
    for name in names:
        reused, launched = (
            bench_plotly_json(args.repeats) if name == "plotly-json" else bench_renderer(name, args.repeats)
        )
        print(f"{name:<12} {reused:>13.2f} {launched:>17.2f} {reused / launched:>6.1f}x", flush=True)


if __name__ == "__main__":
    main()
