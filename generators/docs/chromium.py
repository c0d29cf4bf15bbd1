"""One headless Chromium per worker process, shared by the HTML and Mermaid renderers.

Playwright's sync API is tied to the thread that started it, while a Beam worker may call us from any
thread, so every Playwright call runs on one dedicated thread (`BrowserHost.call`). Chromium is started
inside an empty network namespace when we can (`unshare --net`): it talks to Playwright over a pipe, so it
needs no network at all, and a page that slips past request blocking still reaches nothing.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from generators.docs.sandbox import capabilities

T = TypeVar("T")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--font-render-hinting=none",
]


def find_chromium() -> str:
    """Debian's chromium (never a Playwright download); PIXMO_CHROMIUM overrides."""
    for candidate in (os.environ.get("PIXMO_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        path = candidate and shutil.which(candidate)
        if path:
            return path
    raise FileNotFoundError("no Chromium found: apt-get install chromium, or set PIXMO_CHROMIUM")


def offline_chromium() -> str:
    """A launcher script that runs Chromium in a fresh network namespace, or plain Chromium if we can't."""
    chromium = find_chromium()
    if capabilities().namespaces != "root":
        return chromium
    script = Path(tempfile.gettempdir()) / f"pixmo-chromium-offline-{os.getuid()}.sh"
    body = f'#!/bin/sh\nexec {shutil.which("unshare")} --net -- {chromium} "$@"\n'
    if not script.exists() or script.read_text() != body:
        tmp = script.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(body)
        tmp.chmod(stat.S_IRWXU)
        tmp.replace(script)
    return str(script)


class BrowserHost:
    """Owns the Playwright driver and one Chromium; reference-counted so renderers can share it."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._playwright: Any = None
        self.browser: Any = None
        self._users = 0
        self._lock = threading.Lock()
        # Long-lived pages that renderers keep between calls (touched only on the Playwright thread).
        self.pages: dict[str, Any] = {}

    def acquire(self) -> None:
        with self._lock:
            if self._users == 0:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")
                self._executor.submit(self._launch).result()
            self._users += 1

    def release(self) -> None:
        with self._lock:
            if self._users == 0:
                return
            self._users -= 1
            if self._users == 0:
                self._executor.submit(self._shutdown).result()
                self._executor.shutdown()
                self._executor = None

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run fn(host, *args) on the Playwright thread and return its result."""
        if self._executor is None:
            raise RuntimeError("browser not started: call start() first")
        return self._executor.submit(fn, self, *args).result()

    def drop_page(self, key: str) -> None:
        """Close a kept page and its context (after a timeout or crash, or to recycle it)."""
        page = self.pages.pop(key, None)
        if page is not None:
            try:
                page.context.close()
            except Exception:  # a crashed page may fail to close; the browser reclaims it anyway
                pass

    def _launch(self) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self.browser = self._playwright.chromium.launch(
            executable_path=offline_chromium(), args=CHROMIUM_ARGS, headless=True
        )

    def _shutdown(self) -> None:
        for key in list(self.pages):
            self.drop_page(key)
        try:
            self.browser.close()
        finally:
            self._playwright.stop()
            self.browser = self._playwright = None


# The one browser of this worker process.
SHARED = BrowserHost()


def block_all_requests(context: Any) -> None:
    """Abort every network request a page makes (data: URLs never reach the router, so they still work)."""
    context.route("**/*", lambda route: route.abort("blockedbyclient"))
