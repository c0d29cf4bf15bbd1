"""LaTeX: pdflatex (no shell escape, paranoid file access) in the sandbox, then pdftoppm for page 1."""

from __future__ import annotations

import re

from generators.docs.renderers._util import limits_for
from generators.docs.renderers.base import Renderer, RenderError, crop_to_content
from generators.docs.sandbox import run_sandboxed

DPI = 150
# kpathsea settings: LaTeX may only read and write files in its own directory, never absolute paths.
TEX_ENV = {
    "openin_any": "p",
    "openout_any": "p",
    "TEXMFVAR": "{workdir}/.texmf-var",
    "TEXMFCONFIG": "{workdir}/.texmf-config",
    "shell_escape": "f",
}
SCRIPT = (
    "pdflatex -no-shell-escape -interaction=nonstopmode -halt-on-error main.tex && "
    f"pdftoppm -r {DPI} -f 1 -l 1 -png -singlefile main.pdf output"
)

CODE_INSTRUCTIONS = (
    "Write a complete LaTeX document (\\documentclass{article} ... \\end{document}) that compiles with "
    "pdflatex using only standard packages (e.g. booktabs, array, xcolor, colortbl, tabularx, multirow, "
    "amsmath, geometry, graphicx, tikz). Give \\begin{tabular} one column letter per data column (e.g. "
    "{lrr} for three columns). The content must fit on the first page. Do not \\input or "
    "\\include other files, do not use images, and do not use \\write18."
)


def latex_error(log: str) -> str:
    """The first TeX error line ('! Undefined control sequence.') and the line it happened on."""
    match = re.search(r"^! (.+)$", log, re.MULTILINE)
    if not match:
        return ""
    where = re.search(r"^l\.(\d+)", log[match.end() :], re.MULTILINE)
    return match.group(1).strip() + (f" (line {where.group(1)})" if where else "")


class LatexRenderer(Renderer):
    name = "latex"
    kind = "tables"
    CODE_INSTRUCTIONS = CODE_INSTRUCTIONS

    def _render(self, code: str, timeout_s: float) -> bytes:
        # No page numbers: a lone "1" at the foot of the page would defeat cropping to the content.
        code = code.replace("\\begin{document}", "\\AtBeginDocument{\\pagestyle{empty}}\\begin{document}", 1)
        res = run_sandboxed(
            ["sh", "-c", SCRIPT],
            files={"main.tex": code},
            collect=["output.png"],
            env=TEX_ENV,
            limits=limits_for(timeout_s),
        )
        if not res.ok:
            detail = latex_error(res.stdout)
            reason = "timeout" if res.reason == "timeout" else "LaTeX failed"
            raise RenderError(f"{reason}: {detail}" if detail else f"{reason}: {res.reason}")
        png = res.outputs.get("output.png")
        if not png:
            raise RenderError("LaTeX produced no page")
        return crop_to_content(png)
