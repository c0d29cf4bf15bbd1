"""HTML: the LLM writes a self-contained HTML page; the shared Chromium screenshots it.

JavaScript is OFF: CoSyn-style documents are HTML + CSS, and Chromium here runs without its own sandbox
(--no-sandbox as root), so hostile script is the main way a page could attack the browser. Every network
request is aborted (route interception + offline context; Chromium itself sits in an empty network
namespace when possible), so pages that link CDNs or remote images render without them instead of hanging.
One page is kept and reused (a new page costs a renderer process, ~0.25 s): with JavaScript off a
document cannot leave state behind, and the page is replaced after any error and every 200 renders.
"""

from __future__ import annotations

from typing import Any

from generators.docs.chromium import SHARED, BrowserHost, block_all_requests
from generators.docs.renderers.base import Renderer, RenderError

VIEWPORT_WIDTH = 1024
MIN_HEIGHT = 256
MAX_HEIGHT = 2048  # taller pages fail (with their size): the pipeline asks for one-screen documents
MAX_WIDTH = 2 * VIEWPORT_WIDTH
MAX_SOURCE_BYTES = 2 << 20

CODE_INSTRUCTIONS = (
    "Write one complete, self-contained HTML document (<!DOCTYPE html> ... </html>) with all styling in a "
    "<style> block. No JavaScript, no external resources (no CDN links, web fonts or remote images); use "
    "inline SVG or CSS for graphics. Design it for a 1024px-wide viewport and keep it under 2000px tall."
)


RECYCLE_AFTER = 200  # renders per page before we start a fresh one


def _page(host: BrowserHost) -> Any:
    """The kept HTML page: a no-JS, offline context whose requests are all aborted."""
    page = host.pages.get("html")
    if page is None or page.is_closed() or getattr(page, "_pixmo_uses", 0) >= RECYCLE_AFTER:
        host.drop_page("html")
        context = host.browser.new_context(
            viewport={"width": VIEWPORT_WIDTH, "height": MIN_HEIGHT},
            java_script_enabled=False,
            offline=True,
            device_scale_factor=1,
        )
        block_all_requests(context)
        page = host.pages["html"] = context.new_page()
        page._pixmo_uses = 0
    page._pixmo_uses += 1
    return page


def screenshot_html(host: BrowserHost, html: str, timeout_s: float) -> bytes | str:
    """Load `html` and return a full-page PNG, or why not: a page larger than the clip would be cut off in the
    picture, and QA written from its code would ask about what is not shown. Runs on the Playwright thread."""
    page = _page(host)
    timeout_ms = timeout_s * 1000
    try:
        page.set_content(html, wait_until="load", timeout=timeout_ms)
        # Playwright evaluates in an isolated world, which works even with page JavaScript disabled.
        width, height = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        if height > MAX_HEIGHT or width > MAX_WIDTH:
            return (
                f"the page is {width}x{height} px and would be cut off (at most {MAX_WIDTH}x{MAX_HEIGHT}): make it "
                "shorter or narrower (less text, smaller fonts and spacing, fewer rows)"
            )
        clip = {
            "x": 0,
            "y": 0,
            "width": max(width, VIEWPORT_WIDTH),
            "height": max(height, MIN_HEIGHT),
        }
        return page.screenshot(full_page=True, clip=clip, type="png", timeout=timeout_ms)
    except Exception:
        host.drop_page("html")  # never reuse a page in an unknown state
        raise


class HtmlRenderer(Renderer):
    name = "html"
    kind = "other"
    CODE_INSTRUCTIONS = CODE_INSTRUCTIONS

    def __init__(self, host: BrowserHost = SHARED) -> None:
        self._host = host
        self._started = False

    def start(self) -> None:
        if not self._started:
            self._host.acquire()
            self._started = True

    def close(self) -> None:
        if self._started:
            self._host.release()
            self._started = False

    def _render(self, code: str, timeout_s: float) -> bytes:
        if len(code) > MAX_SOURCE_BYTES:
            raise RenderError(f"HTML too large ({len(code)} bytes)")
        self.start()
        try:
            out = self._host.call(screenshot_html, code, timeout_s)
        except Exception as e:
            if type(e).__name__ == "TimeoutError":
                raise RenderError(f"timeout: page did not finish loading in {timeout_s:g} s") from e
            raise
        if isinstance(out, str):
            raise RenderError(out)
        return out
