"""Matplotlib: the LLM writes a Python script; it runs in the sandbox and saves output.png."""

from __future__ import annotations

from pathlib import Path

from generators.docs.renderers._util import limits_for, raise_for
from generators.docs.renderers.base import Renderer
from generators.docs.sandbox import run_python

HARNESS = Path(__file__).with_name("harness") / "matplotlib_harness.py"

CODE_INSTRUCTIONS = (
    "Write a complete, self-contained Python script using matplotlib (numpy allowed) that draws the figure "
    "and saves it with plt.savefig('output.png', dpi=100, bbox_inches='tight'). Embed all data in the "
    "script; do not read files or use the network."
)


class MatplotlibRenderer(Renderer):
    name = "matplotlib"
    kind = "charts"
    CODE_INSTRUCTIONS = CODE_INSTRUCTIONS

    def __init__(self) -> None:
        self._font_cache: dict[str, bytes] | None = None

    def start(self) -> None:
        # Building matplotlib's font list takes seconds; do it once and hand each run a copy.
        if self._font_cache is not None:
            return
        from matplotlib.font_manager import FontManager

        name = f".mplconfig/fontlist-v{FontManager.__version__}.json"
        res = run_python("import matplotlib.font_manager", limits=limits_for(120), collect=[name])
        self._font_cache = dict(res.outputs)

    def _render(self, code: str, timeout_s: float) -> bytes:
        self.start()
        res = run_python(
            code,
            harness=HARNESS,
            files=self._font_cache,
            collect=["output.png"],
            limits=limits_for(timeout_s),
        )
        return raise_for(res, "output.png")
