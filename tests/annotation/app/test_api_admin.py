"""The admin API against a real server: users, images (checked by content, captions from a sidecar), batches,
Count verification tasks, progress; annotators are refused."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from annotation.app.screenshots import ApiSession, bundled_images
from tests.annotation.app.api_client import call, login, points_body, running, set_up, tasks_of


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("admin")


@pytest.fixture(scope="module")
def admin(data_dir: Path) -> Iterator[ApiSession]:
    with running(data_dir, max_image_bytes=300_000) as url:
        yield set_up(url)


def test_users(admin: ApiSession) -> None:
    made = call(
        admin, "POST", "/api/admin/users", json={"username": "carl", "password": "carl-password", "role": "admin"}
    )
    assert made.status_code == 201 and made.json() == {"username": "carl", "role": "admin"}
    taken = call(admin, "POST", "/api/admin/users", json={"username": "ana", "password": "another-one"})
    assert taken.status_code == 409 and taken.json()["field"] == "username"
    for body, field in (
        ({"username": "../x", "password": "long-enough"}, "username"),
        ({"username": "dee", "password": "short"}, "password"),
        ({"username": "dee", "password": "long-enough", "role": "root"}, "role"),
    ):
        assert call(admin, "POST", "/api/admin/users", json=body).json()["field"] == field
    assert [u["username"] for u in admin.call("GET", "/api/admin/users")] == ["admin", "ana", "bob", "carl"]
    assert (
        call(
            login(admin.base, "ana"), "POST", "/api/admin/users", json={"username": "x", "password": "y" * 9}
        ).status_code
        == 403
    )


def test_images_are_checked_by_content_and_never_stored_by_their_name(admin: ApiSession, data_dir: Path) -> None:
    listed = {i["filename"]: i for i in admin.call("GET", "/api/admin/images")}
    assert listed["bus.jpg"]["caption"].startswith("A red bus") and listed["zidane.jpg"]["caption"] == ""
    bus = next(p for p in bundled_images() if p.name == "bus.jpg").read_bytes()
    files = [
        ("files", ("../../etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n")),
        ("files", ("../../../tmp/evil.jpg", bus)),
        ("files", ("big.jpg", bus + b"\x00" * 300_000)),
        ("captions", ("captions.json", json.dumps({"evil.jpg": "<b>caption</b>"}).encode())),
    ]
    result = admin.call("POST", "/api/admin/images", files=files)
    rejected = {r["filename"]: r["error"] for r in result["rejected"]}
    assert "not a usable image" in rejected["passwd"] and "too large" in rejected["big.jpg"]
    assert [i["filename"] for i in result["images"]] == ["bus.jpg"]  # the same bytes as bus.jpg: the same image
    assert result["images"][0]["image_id"] == listed["bus.jpg"]["image_id"]
    stored = sorted(p.name for p in (data_dir / "images").iterdir())
    assert stored == sorted(f"{i['image_id']}.jpg" for i in listed.values())
    assert not (data_dir.parent / "etc").exists() and not Path("/tmp/evil.jpg").exists()
    bad = call(admin, "POST", "/api/admin/images", files=[("captions", (None, "{not json"))])
    assert bad.status_code == 400 and bad.json()["field"] == "captions"
    assert call(admin, "POST", "/api/admin/images", files=[("other", ("a", b"b"))]).json()["field"] == "files"


def test_batches_are_assigned_round_robin_and_progress_counts_them(admin: ApiSession) -> None:
    images = [i["image_id"] for i in admin.call("GET", "/api/admin/images")]
    body = {"task_type": "points", "image_ids": images, "annotators": ["ana", "bob"], "name": "round robin"}
    assert admin.call("POST", "/api/admin/batches", json=body)["tasks"] == 2
    for bad, field in (
        ({**body, "task_type": "video"}, None),
        ({**body, "image_ids": ["nope"]}, "image_ids"),
        ({**body, "annotators": ["zed"]}, "annotators"),
        ({**body, "image_ids": []}, "image_ids"),
    ):
        response = call(admin, "POST", "/api/admin/batches", json=bad)
        assert response.status_code == 400 and response.json()["field"] == field
    ana, bob = login(admin.base, "ana"), login(admin.base, "bob")
    assert len(tasks_of(ana, "points")) == len(tasks_of(bob, "points")) == 1
    ana.call("POST", f"/api/tasks/{tasks_of(ana, 'points')[0]['task_id']}/points", json=points_body())
    ana.call("POST", f"/api/tasks/{tasks_of(ana, 'points')[0]['task_id']}/complete")
    progress = admin.call("GET", "/api/admin/progress")
    batch = next(b for b in progress["batches"] if b["batch"] == "round robin")
    assert (batch["tasks"], batch["done"], batch["annotations"], batch["by_type"]) == (2, 1, 1, {"points": 1})
    people = {a["annotator"]: a for a in progress["annotators"]}
    assert people["ana"]["by_type"] == {"points": 1} and people["bob"]["done"] == 0


def test_verification_tasks_come_from_counts_task_file(admin: ApiSession) -> None:
    bus = next(p for p in bundled_images() if p.name == "bus.jpg")
    by_name = {i["filename"]: i["image_id"] for i in admin.call("GET", "/api/admin/images")}
    rows = [
        {"example_id": "c-1", "image_url": str(bus), "label": "person", "count": 1, "points": {"x": [1], "y": [2]}},
        {"example_id": "c-2", "image_url": "https://example.com/b.jpg", "image_sha256": by_name["bus.jpg"], "count": 0},
    ]
    task_file = ("file", ("verification_tasks.jsonl", "\n".join(json.dumps(r) for r in rows).encode()))
    loaded = admin.call("POST", "/api/admin/verification-tasks", files=[task_file], data={"annotators": "ana,bob"})
    assert loaded["tasks"] == 2  # one image read from its local path, the other found by its sha256
    bad_file = ("file", ("t.jsonl", b'{"example_id": "c-3", "image_url": "/nowhere.jpg"}\nnot json\n'))
    refused = call(admin, "POST", "/api/admin/verification-tasks", files=[bad_file], data={"annotators": "ana"})
    assert refused.status_code == 400 and "line 1" in refused.json()["error"] and "line 2" in refused.json()["error"]
    rows_seen = [login(admin.base, n).call("GET", f"/api/tasks/{t['task_id']}")["count_row"]["example_id"]
                 for n in ("ana", "bob") for t in tasks_of(login(admin.base, n), "verify")]  # fmt: skip
    assert sorted(rows_seen) == ["c-1", "c-2"]
