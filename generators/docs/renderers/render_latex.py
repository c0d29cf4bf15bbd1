"""LaTeX: pdflatex (no shell escape, paranoid file access) in the sandbox, then pdftoppm for page 1. A failed
run reports TeX's first error with its line; a box that runs off the page fails too (the crop would cut it)."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess

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

# Packages strong models reach for; the prompt names only those this machine has (kpsewhich, at first use).
WANTED_PACKAGES = (
    "booktabs", "array", "xcolor", "colortbl", "tabularx", "multirow", "siunitx", "enumitem", "titlesec",
    "amsmath", "geometry", "graphicx", "tikz", "longtable", "makecell", "fancyhdr",
)  # fmt: skip
OVERFULL_PT = 40.0  # a box this much wider than the text runs off the page (the margins are about 100pt)


@functools.cache
def available_packages() -> tuple[str, ...]:
    """The WANTED_PACKAGES that this TeX installation has."""
    if shutil.which("kpsewhich") is None:
        return ()
    names = [f"{package}.sty" for package in WANTED_PACKAGES]
    try:
        out = subprocess.run(["kpsewhich", *names], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    found = {line.rsplit("/", 1)[-1].removesuffix(".sty") for line in out.split()}
    return tuple(p for p in WANTED_PACKAGES if p in found)


def code_instructions() -> str:
    packages = ", ".join(available_packages()) or "none beyond the LaTeX kernel"
    return (
        "Write a complete LaTeX document (\\documentclass{article} ... \\end{document}) that compiles with "
        f"pdflatex. The packages installed here are: {packages}; use no others. Give \\begin{{tabular}} one "
        "column letter per data column (e.g. {lrr} for three columns). The content must fit on the first page. "
        "Do not \\input or \\include other files, do not use images, and do not use \\write18."
    )


def latex_error(log: str, code: str = "") -> str:
    """The first TeX error ('! Undefined control sequence.'), the line it happened on and that line's text."""
    match = re.search(r"^! (.+)$", log, re.MULTILINE)
    if not match:
        return ""
    message = match.group(1).strip()
    missing = re.search(r"File `([\w-]+)\.sty' not found", message)
    if missing:  # TeX names the line after the \\usepackage; the package is what matters
        installed = ", ".join(available_packages()) or "none"
        return f"package {missing.group(1)} is not installed here (installed: {installed})"
    where = re.search(r"^l\.(\d+)", log[match.end() :], re.MULTILINE)
    if not where:
        return message
    number = int(where.group(1))
    lines = code.splitlines()
    text = f": `{lines[number - 1].strip()[:200]}`" if 0 < number <= len(lines) else ""
    return f"{message} (line {number}{text})"


def overfull(log: str) -> str:
    """The widest 'Overfull \\hbox' that runs off the page, or ''."""
    worst = ""
    widest = OVERFULL_PT
    for match in re.finditer(r"^Overfull \\hbox \(([\d.]+)pt too wide\)(.*)$", log, re.MULTILINE):
        if float(match.group(1)) > widest:
            widest, worst = float(match.group(1)), f"{match.group(1)}pt too wide{match.group(2).rstrip()}"
    return worst


class LatexRenderer(Renderer):
    name = "latex"
    kind = "tables"
    CODE_INSTRUCTIONS = code_instructions()

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
            detail = latex_error(res.stdout, code)
            reason = "timeout" if res.reason == "timeout" else "LaTeX failed"
            raise RenderError(f"{reason}: {detail}" if detail else f"{reason}: {res.reason}")
        wide = overfull(res.stdout)
        if wide:  # the page crops the rest away: the picture would show part of the table
            raise RenderError(
                f"content runs off the page (Overfull \\hbox, {wide}): make it narrower (fewer or narrower "
                "columns, \\small, tabularx, or landscape via geometry)"
            )
        png = res.outputs.get("output.png")
        if not png:
            raise RenderError("LaTeX produced no page")
        return crop_to_content(png)
