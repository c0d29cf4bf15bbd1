"""The seven Docs renderers behind one interface.

    r = get_renderer("html")   # matplotlib, plotly, latex, html, vegalite, mermaid, graphviz
    r.start()                  # once per worker: browser / kaleido server; idempotent
    res = r.render(code)       # RenderResult(ok, png, error, seconds); never raises for bad code
    r.close()

Renderer modules are imported on first use, so asking for graphviz never imports Playwright.
"""

from __future__ import annotations

import importlib

from generators.docs.renderers.base import Renderer, RenderResult

# name -> (module, class)
RENDERERS: dict[str, tuple[str, str]] = {
    "matplotlib": ("render_matplotlib", "MatplotlibRenderer"),
    "plotly": ("render_plotly", "PlotlyRenderer"),
    "latex": ("render_latex", "LatexRenderer"),
    "html": ("render_html", "HtmlRenderer"),
    "vegalite": ("render_vegalite", "VegaLiteRenderer"),
    "mermaid": ("render_mermaid", "MermaidRenderer"),
    "graphviz": ("render_graphviz", "GraphvizRenderer"),
}


def renderer_class(name: str) -> type[Renderer]:
    if name not in RENDERERS:
        raise KeyError(f"unknown renderer {name!r}; known: {', '.join(RENDERERS)}")
    module, cls = RENDERERS[name]
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)


def get_renderer(name: str) -> Renderer:
    """A new, not yet started renderer of this name."""
    return renderer_class(name)()


__all__ = ["RENDERERS", "RenderResult", "Renderer", "get_renderer", "renderer_class"]
