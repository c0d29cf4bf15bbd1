"""What the annotation app's API tests share: a real server (uvicorn on a free local port, SQLite in WAL mode in a
temporary folder), sessions that behave like the browser (cookies + the CSRF header), request bodies and audio."""

import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from annotation.app.screenshots import ApiSession, bundled_images, make_app, serve_app

WINDOW = (1.0, 4.0)  # the recording window in these tests, in seconds (60-90 s in real use)
PASSWORDS = {"admin": "admin-password"}


def password(name: str) -> str:
    return PASSWORDS.get(name, f"{name}-password")


@contextmanager
def running(data_dir: Path, **options: Any) -> Iterator[str]:
    """The real app on data_dir; yields its base URL. Options go to AppConfig."""
    options.setdefault("recording_window_s", WINDOW)
    with serve_app(make_app(str(data_dir), **options)) as url:
        yield url


def call(session: ApiSession, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A request with the session's CSRF header; the raw response (tests look at error statuses)."""
    headers = {"X-CSRF-Token": session.client.cookies.get("pixmo_csrf", ""), **kwargs.pop("headers", {})}
    return session.client.request(method, path, headers=headers, **kwargs)


def login(base: str, name: str) -> ApiSession:
    session = ApiSession(base)
    session.call("POST", "/api/login", json={"username": name, "password": password(name)})
    return session


def set_up(base: str, annotators: tuple[str, ...] = ("ana", "bob"), task_types: tuple[str, ...] = ()) -> ApiSession:
    """The first admin, annotator accounts, the bundled images and one batch per task type (round robin)."""
    admin = ApiSession(base)
    admin.call("POST", "/api/setup", json={"username": "admin", "password": password("admin")})
    for name in annotators:
        admin.call("POST", "/api/admin/users", json={"username": name, "password": password(name)})
    files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in bundled_images()]
    captions = "filename,caption\nbus.jpg,A red bus parked on a city street with people walking past.\n"
    uploaded = admin.call(
        "POST", "/api/admin/images", files=[*files, ("captions", ("captions.csv", captions.encode(), "text/csv"))]
    )
    admin.images = {i["filename"]: i["image_id"] for i in uploaded["images"]}
    for task_type in task_types:
        body = {"task_type": task_type, "image_ids": list(admin.images.values()), "annotators": list(annotators)}
        admin.call("POST", "/api/admin/batches", json={**body, "name": task_type})
    return admin


def tasks_of(session: ApiSession, task_type: str) -> list[dict[str, Any]]:
    return [t for t in session.call("GET", "/api/tasks") if t["task_type"] == task_type]


def points_body(label: str = "person", points: Any = ((10.0, 20.0),), annotation_id: str | None = None) -> dict:
    return {
        "annotation_id": annotation_id or uuid.uuid4().hex,
        "label": label,
        "points": [{"x": x, "y": y} for x, y in points],
        "not_present": not points,
    }


def speech(path: Path, text: str) -> bytes:
    """Speech from espeak-ng as a wav file's bytes."""
    subprocess.run(["espeak-ng", "-w", str(path), text], check=True, capture_output=True)
    return path.read_bytes()


def to_webm(wav: Path) -> bytes:
    """What a browser's MediaRecorder sends: Opus in WebM (no duration in the header)."""
    out = wav.with_suffix(".webm")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "libopus", "-f", "webm", str(out)],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


def tone(path: Path, seconds: float) -> bytes:
    """A sine tone of the given length as wav bytes."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", str(path)],
        check=True,
        capture_output=True,
    )
    return path.read_bytes()
