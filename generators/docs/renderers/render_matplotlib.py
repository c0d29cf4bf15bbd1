"""Matplotlib: the LLM writes a Python script; it runs in the sandbox and saves output.png.

One warm sandbox server per renderer has imported matplotlib (and built its font list) once; every render
is a fresh fork of it that runs the script and dies (see generators.docs.sandbox.WarmPython).
"""

from __future__ import annotations

from generators.docs.renderers._util import limits_for, raise_for
from generators.docs.renderers.base import Renderer
from generators.docs.sandbox import WarmPython

HARNESS = "matplotlib_harness"

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
        self._sandbox = WarmPython(HARNESS)

    def start(self) -> None:
        self._sandbox.start()

    def close(self) -> None:
        self._sandbox.close()

    def _render(self, code: str, timeout_s: float) -> bytes:
        res = self._sandbox.run(code, collect=["output.png"], limits=limits_for(timeout_s))
        return raise_for(res, "output.png")
