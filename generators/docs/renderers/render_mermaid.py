"""Mermaid: the LLM writes Mermaid source; npm's mermaid.min.js, loaded from a local file into the shared
Chromium, turns it into SVG, which we screenshot.

The source reaches the page only as a string argument to mermaid.render (securityLevel "strict": labels
are sanitised, click handlers are off), so it is data to Mermaid's parser, never script. The page needs
JavaScript for Mermaid itself; it is offline and every request is aborted. A render that does not finish
in time is abandoned with its page (a parser stuck in a loop cannot block the next render).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from generators.docs.chromium import SHARED, BrowserHost, block_all_requests
from generators.docs.renderers.base import Renderer, RenderError
from generators.docs.sandbox import REPO_ROOT

MAX_SOURCE_BYTES = 200_000
RECYCLE_AFTER = 200

CODE_INSTRUCTIONS = (
    "Write Mermaid diagram source only (e.g. starting with `flowchart TD`, `sequenceDiagram`, "
    "`classDiagram`, `gantt`, `pie` or `mindmap`), without ``` fences, click callbacks or links."
)

_PAGE_SETUP = """
mermaid.initialize({startOnLoad: false, securityLevel: 'strict', theme: 'default',
                    flowchart: {useMaxWidth: false}, sequence: {useMaxWidth: false},
                    gantt: {useMaxWidth: false}, class: {useMaxWidth: false}, state: {useMaxWidth: false},
                    er: {useMaxWidth: false}, pie: {useMaxWidth: false}, mindmap: {useMaxWidth: false}});
window.__pixmoRender = (code) => {
  window.__done = false; window.__svg = null; window.__err = null;
  const out = document.getElementById('out'); out.innerHTML = '';
  // Start on a timer so this call returns at once and the wait below owns the timeout.
  setTimeout(async () => {
    try { window.__svg = (await mermaid.render('pixmo' + Date.now(), code)).svg; }
    catch (e) { window.__err = String((e && e.message) || e).slice(0, 800); }
    window.__done = true;
  }, 0);
};
window.__pixmoShow = () => {
  const out = document.getElementById('out'); out.innerHTML = window.__svg;
  const svg = out.querySelector('svg');
  svg.style.maxWidth = 'none';
};
"""


def mermaid_js_path() -> Path:
    """npm's mermaid bundle: $PIXMO_MERMAID_JS, else <repo>/node_modules/mermaid/dist/mermaid.min.js."""
    path = Path(os.environ.get("PIXMO_MERMAID_JS") or REPO_ROOT / "node_modules/mermaid/dist/mermaid.min.js")
    if not path.is_file():
        raise FileNotFoundError(
            f"mermaid.min.js not found at {path}: run `npm install mermaid` in the repo root or set PIXMO_MERMAID_JS"
        )
    return path


def _page(host: BrowserHost) -> Any:
    page = host.pages.get("mermaid")
    if page is None or page.is_closed() or getattr(page, "_pixmo_uses", 0) >= RECYCLE_AFTER:
        host.drop_page("mermaid")
        context = host.browser.new_context(viewport={"width": 1024, "height": 768}, offline=True, device_scale_factor=2)
        block_all_requests(context)
        page = context.new_page()
        page.set_content(
            '<!DOCTYPE html><html><body style="margin:0;background:white">'
            '<div id="out" style="display:inline-block;padding:16px;background:white"></div>'
            "</body></html>"
        )
        page.add_script_tag(content=mermaid_js_path().read_text())
        page.add_script_tag(content=_PAGE_SETUP)
        page._pixmo_uses = 0
        host.pages["mermaid"] = page
    page._pixmo_uses += 1
    return page


def render_mermaid_svg(host: BrowserHost, code: str, timeout_s: float) -> bytes | str:
    """PNG bytes of the diagram, or the Mermaid error message. Runs on the Playwright thread."""
    page = _page(host)
    try:
        page.evaluate("code => window.__pixmoRender(code)", code)
        page.wait_for_function("window.__done === true", timeout=timeout_s * 1000, polling=20)
        svg, err = page.evaluate("[window.__svg, window.__err]")
        if err or not svg:
            return err or "mermaid produced no SVG"
        page.evaluate("window.__pixmoShow()")
        return page.locator("#out").screenshot(type="png", timeout=timeout_s * 1000)
    except Exception:
        host.drop_page("mermaid")
        raise


class MermaidRenderer(Renderer):
    name = "mermaid"
    kind = "diagrams"
    CODE_INSTRUCTIONS = CODE_INSTRUCTIONS

    def __init__(self, host: BrowserHost = SHARED) -> None:
        self._host = host
        self._started = False

    def start(self) -> None:
        if not self._started:
            mermaid_js_path()  # fail early and clearly if the bundle is missing
            self._host.acquire()
            self._started = True
            self._host.call(_page)  # load mermaid now rather than in the first render

    def close(self) -> None:
        if self._started:
            self._host.release()
            self._started = False

    def _render(self, code: str, timeout_s: float) -> bytes:
        if len(code) > MAX_SOURCE_BYTES:
            raise RenderError(f"Mermaid source too large ({len(code)} bytes)")
        code = code.strip()
        if code.startswith("```"):
            code = code.split("\n", 1)[-1].rsplit("```", 1)[0]
        self.start()
        try:
            out = self._host.call(render_mermaid_svg, code, timeout_s)
        except Exception as e:
            if type(e).__name__ == "TimeoutError":
                raise RenderError(f"timeout: Mermaid did not finish in {timeout_s:g} s") from e
            raise
        if isinstance(out, str):
            raise RenderError(f"Mermaid error: {out}")
        return out
