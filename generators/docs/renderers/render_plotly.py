"""Plotly: the LLM's script runs in the sandbox and only exports the figure as JSON; a kaleido server in
the worker (one per process, started once) renders that JSON. JSON is data, so no LLM code runs here.

The script runs in a fork of a warm sandbox server that has imported plotly, pandas and numpy once
(generators.docs.sandbox.WarmPython), so a render pays for no interpreter start-up.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from generators.docs.chromium import offline_chromium
from generators.docs.renderers._util import limits_for, raise_for
from generators.docs.renderers.base import Renderer, RenderError
from generators.docs.sandbox import WarmPython

HARNESS = "plotly_harness"
MAX_JSON_BYTES = 20 << 20
KALEIDO_TIMEOUT_S = 60
DEFAULT_SIZE = (800, 600)

CODE_INSTRUCTIONS = (
    "Write a complete, self-contained Python script using plotly (plotly.graph_objects or plotly.express; "
    "pandas and numpy allowed) that builds the figure as `fig` and ends with fig.write_image('output.png'). "
    "Set explicit width and height in fig.update_layout. Embed all data in the script; no files, no network."
)

# kaleido's sync server is a process-wide singleton, and it pairs requests with answers through one queue,
# so callers take turns.
_server_lock = threading.Lock()
_server_users = 0


def start_kaleido_server() -> None:
    import kaleido

    global _server_users
    with _server_lock:
        if _server_users == 0:
            kaleido.start_sync_server(
                path=offline_chromium(), mathjax=False, timeout=KALEIDO_TIMEOUT_S, silence_warnings=True
            )
            # The browser starts lazily on the first figure; pay that now, not in the first render.
            kaleido.calc_fig_sync({"data": [], "layout": {}}, opts={"format": "png", "width": 10, "height": 10})
        _server_users += 1


def stop_kaleido_server() -> None:
    import kaleido

    global _server_users
    with _server_lock:
        if _server_users == 0:
            return
        _server_users -= 1
        if _server_users == 0:
            kaleido.stop_sync_server(silence_warnings=True)


def local_references(node: Any, path: str = "$") -> list[str]:
    """JSON paths of strings that would make kaleido's page load something: file: URLs anywhere, and
    layout images that are not inline data: URIs (kaleido's page is itself a local file, so it could
    otherwise pull images from the worker's disk into the picture)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            found += local_references(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += local_references(value, f"{path}[{i}]")
    elif isinstance(node, str):
        text = node.strip().lower()
        if text.startswith("file:") or (
            path.startswith("$.layout.images[") and path.endswith(".source") and not text.startswith("data:")
        ):
            found.append(path)
    return found


def figure_to_png(figure: dict, *, reuse_server: bool = True) -> bytes:
    """Render a plotly figure dict with kaleido: the shared server, or a one-off browser when not reusing."""
    import kaleido

    layout = figure.get("layout") or {}
    width, height = layout.get("width") or DEFAULT_SIZE[0], layout.get("height") or DEFAULT_SIZE[1]
    if not (isinstance(width, int | float) and isinstance(height, int | float)):
        raise RenderError("layout width/height must be numbers")
    opts = {"format": "png", "width": min(int(width), 2000), "height": min(int(height), 2000)}
    if not reuse_server:
        kopts = {"path": offline_chromium(), "mathjax": False, "timeout": KALEIDO_TIMEOUT_S}
        return kaleido.calc_fig_sync(figure, opts=opts, kopts=kopts)
    with _server_lock:
        return kaleido.calc_fig_sync(figure, opts=opts)


class PlotlyRenderer(Renderer):
    name = "plotly"
    kind = "charts"
    CODE_INSTRUCTIONS = CODE_INSTRUCTIONS

    def __init__(self) -> None:
        self._started = False
        self._sandbox = WarmPython(HARNESS)

    def start(self) -> None:
        if not self._started:
            start_kaleido_server()
            self._started = True
        self._sandbox.start()

    def close(self) -> None:
        self._sandbox.close()
        if self._started:
            stop_kaleido_server()
            self._started = False

    def figure_json(self, code: str, timeout_s: float) -> dict:
        """Run the LLM's script in the sandbox and return the figure it exported, as a dict."""
        res = self._sandbox.run(
            code,
            collect=["figure.json"],
            limits=limits_for(timeout_s),
            max_collect_bytes=MAX_JSON_BYTES,
        )
        raw = raise_for(
            res,
            "figure.json",
            "no image produced: the code never exported a figure (fig.write_image / fig.show) and defines no `fig`",
        )
        try:
            figure = json.loads(raw)
        except ValueError as e:
            raise RenderError(f"figure JSON is invalid: {e}") from e
        if not isinstance(figure, dict) or not isinstance(figure.get("data", []), list):
            raise RenderError("figure JSON is not a plotly figure")
        refs = local_references(figure)
        if refs:
            raise RenderError(f"figure refers to external files or images at {', '.join(refs[:3])}")
        return figure

    def _render(self, code: str, timeout_s: float) -> bytes:
        self.start()
        return figure_to_png(self.figure_json(code, timeout_s))
