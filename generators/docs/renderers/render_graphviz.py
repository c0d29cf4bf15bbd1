"""Graphviz: the LLM writes DOT source; `dot` renders it inside the sandbox."""

from __future__ import annotations

import re

from generators.docs.renderers._util import limits_for, raise_for
from generators.docs.renderers.base import Renderer, RenderError
from generators.docs.sandbox import run_sandboxed

DPI = 120
MAX_SOURCE_BYTES = 1 << 20

CODE_INSTRUCTIONS = (
    "Write complete Graphviz DOT source (a `digraph` or `graph`) for the diagram. Use only built-in shapes "
    "and fonts; no image or shapefile attributes and no external files."
)


def dot_error(stderr: str, code: str) -> str:
    """dot's first error, with the source line it names ("syntax error in line 2 near ';'": `a -> ;`)."""
    errors = [line.strip() for line in stderr.splitlines() if line.strip().startswith(("Error", "Warning"))]
    first = next((e for e in errors if e.startswith("Error")), errors[0] if errors else stderr.strip()[:300])
    where = re.search(r"\bline (\d+)", first)
    lines = code.splitlines()
    if where and 0 < int(where.group(1)) <= len(lines):
        first += f": `{lines[int(where.group(1)) - 1].strip()[:200]}`"
    return first[:500]


class GraphvizRenderer(Renderer):
    name = "graphviz"
    kind = "diagrams"
    CODE_INSTRUCTIONS = CODE_INSTRUCTIONS

    def _render(self, code: str, timeout_s: float) -> bytes:
        if len(code) > MAX_SOURCE_BYTES:
            raise RenderError(f"DOT source too large ({len(code)} bytes)")
        res = run_sandboxed(
            ["dot", "-Tpng", f"-Gdpi={DPI}", "-o", "output.png", "main.dot"],
            files={"main.dot": code},
            collect=["output.png"],
            limits=limits_for(timeout_s),
        )
        if not res.ok and res.reason.startswith("exit code"):
            raise RenderError(f"dot failed: {dot_error(res.stderr, code) or res.reason}")
        return raise_for(res, "output.png")
