"""Screenshots of the annotation app's pages for the README, taken in a real browser against a real server.

    .venv/bin/python -m annotation.app.screenshots --out docs/screenshots

Starts the app on a free local port with a temporary data folder, fills it through the HTTP API (an admin, an
annotator, ultralytics' bundled sample images, one batch per task type and a Count verification task), then
drives Debian's Chromium (Playwright, fake microphone fed with espeak-ng speech) through each page and saves
`admin.png`, `points.png`, `recording.png`, `ama.png` and `verification.png`. Nothing is downloaded.

The helpers here (Chromium flags, the speech file, the server thread, the API session) are shared with the
browser tests in tests/annotation/app/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
SPEECH = (
    "A red and white city bus is parked at the curb of a sunny street. Four people walk past it, "
    "one man in a dark suit is in front. Behind the bus there are tall buildings with many windows."
)


def chromium_args(fake_audio_wav: str | None = None) -> list[str]:
    """Flags for a quiet headless Chromium without network chatter; a fake microphone playing a wav file."""
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        "--autoplay-policy=no-user-gesture-required",
    ]
    if fake_audio_wav:
        args.append(f"--use-file-for-fake-audio-capture={fake_audio_wav}")
    return args


def speech_wav(path: str, text: str = SPEECH) -> str:
    """Speech synthesised by espeak-ng into a wav file (Chromium's fake microphone loops it)."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    subprocess.run(["espeak-ng", "-w", path, text], check=True, capture_output=True)
    return path


def bundled_images() -> list[Path]:
    """ultralytics' sample images (bus.jpg, zidane.jpg)."""
    from media.samples import bundled_images_dir

    folder = bundled_images_dir()
    if folder is None:
        raise RuntimeError("ultralytics is not installed: its bundled sample images are missing")
    return sorted(Path(folder).glob("*.jpg"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Run an ASGI app with uvicorn in a thread on a free local port; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="annotation-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a guard against a hung start, not a timing check
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the annotation app's server thread stopped during start-up")
        if time.monotonic() > deadline:
            raise RuntimeError("the annotation app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def make_app(data_dir: str, recording_window_s: tuple[float, float] = (60, 90), **options: Any) -> Any:
    """The real app (annotation/app/app.py) on a data folder with its SQLite database."""
    from annotation.app.app import create_app
    from annotation.app.config import AppConfig

    config = AppConfig(data_dir=data_dir, recording_window_s=recording_window_s, **options)
    return create_app(config)


class ApiSession:
    """The HTTP API as a browser uses it: cookies, the CSRF header, JSON errors raised with their message."""

    def __init__(self, base: str) -> None:
        import httpx

        self.base = base
        self.client = httpx.Client(base_url=base, timeout=120)
        self.client.get("/login")  # sets the pixmo_csrf cookie (double-submit)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"X-CSRF-Token": self.client.cookies.get("pixmo_csrf", "")}
        response = self.client.request(method, path, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text}")
        return response.json() if "json" in response.headers.get("content-type", "") else response.content

    def close(self) -> None:
        self.client.close()


def seed(base: str, work: Path) -> dict[str, Any]:
    """Users, images and one batch per task type through the API; returns ids the screenshots need."""
    admin = ApiSession(base)
    admin.call("POST", "/api/setup", json={"username": "admin", "password": "admin-password"})
    admin.call("POST", "/api/admin/users", json={"username": "ana", "password": "ana-password", "role": "annotator"})
    paths = bundled_images()
    files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in paths]
    uploaded = admin.call("POST", "/api/admin/images", files=files)["images"]
    by_name = {image["filename"]: image["image_id"] for image in uploaded}
    bus = by_name["bus.jpg"]
    for task_type in ("points", "cap", "ama"):
        admin.call(
            "POST",
            "/api/admin/batches",
            json={"task_type": task_type, "image_ids": [bus], "annotators": ["ana"], "name": f"{task_type}-demo"},
        )
    row = {
        "example_id": "count-demo-0001",
        "split": "validation",
        "image_url": str(paths[[p.name for p in paths].index("bus.jpg")]),
        "image_sha256": "",
        "label": "person",
        "count": 3,
        "points": {"x": [17.5, 33.0, 85.5], "y": [63.0, 60.5, 64.0]},
        "boxes": [],
        "question": "How many person are there?",
        "answer": "Counting shows a total of 3.",
        "verified": False,
    }
    tasks_file = work / "verification_tasks.jsonl"
    tasks_file.write_text(json.dumps(row) + "\n", encoding="utf-8")
    admin.call(
        "POST",
        "/api/admin/verification-tasks",
        files=[("file", (tasks_file.name, tasks_file.read_bytes(), "application/json"))],
        data={"annotators": "ana"},
    )
    admin.close()
    annotator = ApiSession(base)
    annotator.call("POST", "/api/login", json={"username": "ana", "password": "ana-password"})
    tasks = {task["task_type"]: task["task_id"] for task in annotator.call("GET", "/api/tasks")}
    annotator.close()
    return {"tasks": tasks, "bus": bus}


def take_screenshots(out: Path, base: str, work: Path, tasks: dict[str, str]) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    wav = speech_wav(str(work / "speech.wav"))
    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=chromium_args(wav))
        page = browser.new_page(viewport={"width": 1280, "height": 860}, bypass_csp=True)  # Playwright waits use eval

        def shot(name: str) -> None:
            path = out / f"{name}.png"
            page.screenshot(path=str(path), full_page=True)
            saved.append(path)

        page.goto(f"{base}/login")
        page.fill("#username", "ana")
        page.fill("#password", "ana-password")
        page.click("button[type=submit]")
        page.wait_for_url("**/tasks")

        page.goto(f"{base}/task/{tasks['points']}")
        page.fill("#label", "person wearing a hat")
        page.locator("#label").press("Enter")  # nothing clicked yet: the page explains what is missing
        page.fill("#label", "person")
        stage = page.locator(".stage")
        expect(stage).to_be_visible()
        box = stage.bounding_box()
        for x, y in ((0.17, 0.63), (0.33, 0.6), (0.86, 0.64), (0.05, 0.8)):
            stage.click(position={"x": box["width"] * x, "y": box["height"] * y})
        page.keyboard.press("Backspace")
        page.locator("#label").press("Enter")
        expect(page.locator("#saved li")).to_have_count(1)
        page.fill("#label", "bus wheels")
        for x, y in ((0.23, 0.8), (0.72, 0.79)):
            stage.click(position={"x": box["width"] * x, "y": box["height"] * y})
        shot("points")

        page.goto(f"{base}/task/{tasks['cap']}")
        page.click("#record")
        expect(page.locator("#stop")).to_be_enabled(timeout=120_000)
        page.wait_for_timeout(500)
        shot("recording")
        page.click("#stop")
        page.click("#upload")
        expect(page.locator("#player")).to_be_visible()

        page.goto(f"{base}/task/{tasks['ama']}")
        page.fill("#question", "What is written on the front of the bus?")
        page.click("#ask")
        expect(page.locator("[data-act=accept]")).to_be_visible(timeout=300_000)
        shot("ama")

        page.goto(f"{base}/task/{tasks['verify']}")
        page.click("#fix")
        stage = page.locator(".stage")
        box = stage.bounding_box()
        stage.click(position={"x": box["width"] * 0.07, "y": box["height"] * 0.79})
        shot("verification")
        page.context.clear_cookies()

        page.goto(f"{base}/login")
        page.fill("#username", "admin")
        page.fill("#password", "admin-password")
        page.click("button[type=submit]")
        page.wait_for_url("**/admin")
        page.fill("#export-dir", str(work / "export"))
        page.click("#export")
        expect(page.locator("#export-path")).to_be_visible(timeout=60_000)
        page.locator("#export-dir").fill("")
        shot("admin")
        browser.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="docs/screenshots", help="folder for the PNG files (default: %(default)s)")
    parser.add_argument(
        "--recording-window", default="3,6", help="min,max seconds of a recording (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    if not os.path.exists(CHROMIUM):
        print(f"error: {CHROMIUM} is missing (apt-get install chromium)", file=sys.stderr)
        return 2
    low, high = (float(v) for v in args.recording_window.split(","))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pixmo-screens-") as tmp:
        work = Path(tmp)
        app = make_app(str(work / "data"), recording_window_s=(low, high))
        with serve_app(app) as base:
            seeded = seed(base, work)
            for path in take_screenshots(out, base, work, seeded["tasks"]):
                print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
