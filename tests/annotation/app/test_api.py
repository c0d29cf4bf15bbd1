"""The annotation app's HTTP API against a real server (uvicorn on a free port, SQLite in WAL mode): accounts,
CSRF, who sees what, idempotent submits, bad input, a restart mid-session, export, and many annotators at once."""

import json
import sqlite3
import subprocess
import threading
import uuid
from pathlib import Path

import httpx
import pytest

from annotation.app.screenshots import ApiSession, bundled_images, make_app, serve_app
from annotation.exports import AMA, CAP_MANIFEST, POINTS, CapRecord, PointsRecord, read_jsonl

WINDOW = (1.0, 4.0)


def call(session: ApiSession, method: str, path: str, **kwargs) -> httpx.Response:
    """A request with the session's CSRF header; the raw response (tests look at error statuses)."""
    headers = {"X-CSRF-Token": session.client.cookies.get("pixmo_csrf", "")}
    return session.client.request(method, path, headers=headers, **kwargs)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("app")


@pytest.fixture(scope="module")
def server(data_dir):
    with serve_app(make_app(str(data_dir), recording_window_s=WINDOW)) as url:
        yield url


@pytest.fixture(scope="module")
def admin(server) -> ApiSession:
    session = ApiSession(server)
    session.call("POST", "/api/setup", json={"username": "admin", "password": "admin-password"})
    for name in ("ana", "bob"):
        session.call(
            "POST", "/api/admin/users", json={"username": name, "password": f"{name}-password", "role": "annotator"}
        )
    files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in bundled_images()]
    images = {i["filename"]: i["image_id"] for i in session.call("POST", "/api/admin/images", files=files)["images"]}
    for task_type in ("points", "cap"):
        body = {
            "task_type": task_type,
            "image_ids": list(images.values()),
            "annotators": ["ana", "bob"],
            "name": task_type,
        }
        session.call("POST", "/api/admin/batches", json=body)
    session.images = images
    return session


def login(server: str, name: str) -> ApiSession:
    session = ApiSession(server)
    session.call("POST", "/api/login", json={"username": name, "password": f"{name}-password"})
    return session


def task_of(session: ApiSession, task_type: str) -> dict:
    return next(t for t in session.call("GET", "/api/tasks") if t["task_type"] == task_type)


def points_body(label: str = "person", points=((10.0, 20.0),), annotation_id: str | None = None) -> dict:
    return {
        "annotation_id": annotation_id or uuid.uuid4().hex,
        "label": label,
        "points": [{"x": x, "y": y} for x, y in points],
        "not_present": not points,
    }


def test_passwords_are_hashed_and_logins_checked(admin, server, data_dir):
    rows = sqlite3.connect(data_dir / "annotation.db").execute("select username, password_hash from users").fetchall()
    assert {name for name, _ in rows} == {"admin", "ana", "bob"}
    assert all(h.startswith("$argon2") and "password" not in h for _, h in rows)
    stranger = ApiSession(server)
    assert (
        call(stranger, "POST", "/api/login", json={"username": "ana", "password": "wrong-password"}).status_code == 401
    )
    assert call(stranger, "GET", "/api/tasks").status_code == 401
    assert call(stranger, "POST", "/api/setup", json={"username": "x", "password": "long-enough"}).status_code == 409
    assert (
        call(admin, "POST", "/api/admin/users", json={"username": "ana", "password": "another-one"}).status_code == 409
    )


def test_csrf_is_required_for_changes(admin, server):
    ana = login(server, "ana")
    task = task_of(ana, "points")
    no_header = ana.client.post(f"/api/tasks/{task['task_id']}/points", json=points_body())
    assert no_header.status_code == 403 and "CSRF" in no_header.json()["error"]
    bare = httpx.Client(base_url=server)  # no page visited: no CSRF cookie to repeat
    assert bare.post("/api/login", json={"username": "ana", "password": "ana-password"}).status_code == 403


def test_annotators_see_only_their_own_tasks_and_images(admin, server):
    ana, bob = login(server, "ana"), login(server, "bob")
    ana_tasks, bob_tasks = ana.call("GET", "/api/tasks"), bob.call("GET", "/api/tasks")
    assert ana_tasks and bob_tasks and not {t["task_id"] for t in ana_tasks} & {t["task_id"] for t in bob_tasks}
    theirs = bob_tasks[0]
    assert call(ana, "GET", f"/api/tasks/{theirs['task_id']}").status_code == 404
    assert call(ana, "POST", f"/api/tasks/{theirs['task_id']}/points", json=points_body()).status_code == 404
    mine = {t["image_id"] for t in ana_tasks}
    others = set(admin.images.values()) - mine
    for image_id in others:
        assert call(ana, "GET", f"/api/images/{image_id}").status_code == 404
    assert call(ana, "GET", "/api/admin/users").status_code == 403


def test_submits_are_idempotent(admin, server):
    ana = login(server, "ana")
    task_id = task_of(ana, "points")["task_id"]
    body = points_body("dog", ((50.0, 50.0), (60.0, 40.0)))
    first = call(ana, "POST", f"/api/tasks/{task_id}/points", json=body)
    again = call(ana, "POST", f"/api/tasks/{task_id}/points", json=body)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    changed = call(ana, "POST", f"/api/tasks/{task_id}/points", json={**body, "label": "cat"})
    assert changed.status_code == 409
    saved = [
        a
        for a in ana.call("GET", f"/api/tasks/{task_id}")["annotations"]
        if a["annotation_id"] == body["annotation_id"]
    ]
    assert len(saved) == 1 and saved[0]["label"] == "dog"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (points_body(points=((101.0, 5.0),)), "points"),
        (points_body(points=((5.0, -1.0),)), "points"),
        (points_body(label="   "), "label"),
        (points_body(label="x" * 100_000), "label"),
        ({**points_body(), "not_present": True}, "points"),
        ({**points_body(), "annotation_id": "../../etc/passwd"}, "annotation_id"),
    ],
)
def test_bad_points_are_refused_with_the_field(admin, server, body, field):
    ana = login(server, "ana")
    response = call(ana, "POST", f"/api/tasks/{task_of(ana, 'points')['task_id']}/points", json=body)
    assert response.status_code == 400 and response.json()["field"] == field, response.text


def speech(path: Path, text: str) -> bytes:
    subprocess.run(["espeak-ng", "-w", str(path), text], check=True, capture_output=True)
    return path.read_bytes()


def test_recordings_are_checked_and_a_new_one_supersedes(admin, server, tmp_path):
    ana = login(server, "ana")
    task_id = task_of(ana, "cap")["task_id"]
    wav = speech(tmp_path / "a.wav", "A red bus on a street with people.")
    png = bundled_images()[0].read_bytes()
    upload = lambda data, name, rid: call(  # noqa: E731
        ana, "POST", f"/api/tasks/{task_id}/recordings", data={"annotation_id": rid, "duration_s": "2"},
        files={"audio": (name, data, "audio/wav")},
    )  # fmt: skip
    assert "audio" in upload(png, "x.wav", "r-png").json()["error"]  # an image posted as audio
    long_wav = speech(tmp_path / "b.wav", "This description goes on for longer than the short test window allows. " * 3)
    assert "must be 1-4 s long" in upload(long_wav, "b.wav", "r-long").json()["error"]
    assert upload(wav, "../../a.wav", "r-1").status_code == 200
    assert upload(wav, "a.wav", "r-1").status_code == 200  # a retry
    assert upload(wav, "a.wav", "r-2").status_code == 200  # a re-recording
    recordings = [a for a in ana.call("GET", f"/api/tasks/{task_id}")["annotations"] if a["kind"] == "recording"]
    assert [(a["annotation_id"], a["superseded"]) for a in recordings] == [("r-1", True), ("r-2", False)]
    assert ana.client.get("/api/recordings/r-2").content == wav


def test_a_restart_keeps_sessions_and_work(admin, data_dir):
    """A second server process on the same database (as after a restart) sees the same session and annotations."""
    ana_cookies = dict(login(admin.base, "ana").client.cookies)
    with serve_app(make_app(str(data_dir), recording_window_s=WINDOW)) as url:
        client = httpx.Client(base_url=url, cookies=ana_cookies)
        tasks = client.get("/api/tasks").json()
        assert tasks and all(t["task_type"] in ("points", "cap") for t in tasks)
        detail = client.get(f"/api/tasks/{next(t for t in tasks if t['task_type'] == 'points')['task_id']}").json()
        assert any(a.get("label") == "dog" for a in detail["annotations"])


def test_many_annotators_at_once_lose_and_duplicate_nothing(admin, server):
    """20 sessions x 10 submits in parallel, each sent twice (a retry with the same id): exactly 200 stored."""
    for i in range(20):
        admin.call("POST", "/api/admin/users", json={"username": f"load{i}", "password": f"load{i}-password"})
    first_image = next(iter(admin.images.values()))
    for i in range(20):
        body = {"task_type": "points", "image_ids": [first_image], "annotators": [f"load{i}"], "name": f"load{i}"}
        admin.call("POST", "/api/admin/batches", json=body)
    sent: list[str] = []
    errors: list[str] = []

    def annotate(i: int) -> None:
        try:
            session = login(admin.base, f"load{i}")
            task_id = task_of(session, "points")["task_id"]
            for k in range(10):
                body = points_body(f"thing {i}-{k}", ((k * 5.0, 50.0),))
                for _ in range(2):
                    response = call(session, "POST", f"/api/tasks/{task_id}/points", json=body)
                    if response.status_code != 200:
                        errors.append(response.text)
                sent.append(body["annotation_id"])
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(error))

    threads = [threading.Thread(target=annotate, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and len(sent) == 200
    export = admin.call("POST", "/api/admin/export", json={})
    labels = [r.label for _, r in read_jsonl(str(Path(export["export_dir"]) / POINTS), PointsRecord)]
    loaded = [label for label in labels if label.startswith("thing ")]
    assert len(loaded) == 200 and len(set(loaded)) == 200


def test_export_reads_back_and_replaces_whole(admin, tmp_path):
    out = tmp_path / "export"
    first = admin.call("POST", "/api/admin/export", json={"out_dir": str(out)})
    (out / "stray.txt").write_text("from an older export")
    second = admin.call("POST", "/api/admin/export", json={"out_dir": str(out)})
    assert first["counts"] == second["counts"] and not (out / "stray.txt").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export-")]
    for name, cls in ((POINTS, PointsRecord), (CAP_MANIFEST, CapRecord)):
        records = [r for _, r in read_jsonl(str(out / name), cls)]
        assert all(not isinstance(r, Exception) for r in records) and len(records) == second["counts"][name]
        for record in records:
            assert (out / record.image).is_file()
    caps = [r for _, r in read_jsonl(str(out / CAP_MANIFEST), CapRecord)]
    assert len(caps) == 1 and caps[0].audio == ["audio/r-2.wav"]
    assert json.loads((out / "export.json").read_text())["counts"][AMA] == 0


def test_cli_creates_users_and_exports(tmp_path):
    import sys

    password = tmp_path / "pw"
    password.write_text("cli-password\n")
    base = [sys.executable, "-m", "annotation.app"]
    made = subprocess.run(
        [*base, "create-user", "carol", "--role", "admin", "--data-dir", str(tmp_path / "d"),
         "--password-file", str(password)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    exported = subprocess.run(
        [*base, "export", "--data-dir", str(tmp_path / "d"), "--out", str(tmp_path / "e")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert exported.returncode == 0 and (tmp_path / "e" / "export.json").exists(), exported.stderr
