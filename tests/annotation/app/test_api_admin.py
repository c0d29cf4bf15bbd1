"""The admin API against a real server: users, images (checked by content, captions from a sidecar), batches,
Count verification tasks, progress; annotators are refused."""

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from annotation.app.screenshots import ApiSession, bundled_images
from annotation.exports import CAP_MANIFEST, CapRecord, read_jsonl
from tests.annotation.app.api_client import (
    call,
    login,
    password,
    points_body,
    running,
    set_up,
    tasks_of,
    tone,
)


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


def six_images() -> list[tuple[str, tuple[str, bytes, str]]]:
    """Six different real JPEGs (crops of bus.jpg), as upload fields."""
    bus = Image.open(next(p for p in bundled_images() if p.name == "bus.jpg")).convert("RGB")
    files = []
    for i in range(6):
        out = io.BytesIO()
        bus.crop((i * 60, i * 80, i * 60 + 400, i * 80 + 300)).save(out, "JPEG", quality=90)
        files.append(("files", (f"crop-{i}.jpg", out.getvalue(), "image/jpeg")))
    return files


def assignments(admin: ApiSession, batch: str) -> dict[str, list[str]]:
    """Image file name -> the annotators who got it in this batch."""
    names = {i["image_id"]: i["filename"] for i in admin.call("GET", "/api/admin/images")}
    got: dict[str, list[str]] = {}
    for person in ("ana", "bob", "cleo"):
        for task in login(admin.base, person).call("GET", "/api/tasks"):
            if task["batch"] == batch:
                got.setdefault(names[task["image_id"]], []).append(person)
    return {name: sorted(people) for name, people in sorted(got.items())}


def test_a_batch_gives_each_image_to_as_many_annotators_as_asked(admin: ApiSession, tmp_path: Path) -> None:
    admin.call("POST", "/api/admin/users", json={"username": "cleo", "password": password("cleo")})
    images = [i["image_id"] for i in admin.call("POST", "/api/admin/images", files=six_images())["images"]]
    assert len(set(images)) == 6
    body = {"task_type": "points", "image_ids": images, "annotators": ["ana", "bob"]}
    # The default: the six images shared out, three each, every image once.
    assert admin.call("POST", "/api/admin/batches", json={**body, "name": "shared"})["tasks"] == 6
    shared = assignments(admin, "shared")
    assert len(shared) == 6 and all(len(people) == 1 for people in shared.values())
    assert sorted(p for people in shared.values() for p in people) == ["ana"] * 3 + ["bob"] * 3
    # Two per image: both annotators get every image.
    both = {**body, "name": "both", "annotators_per_image": 2}
    assert admin.call("POST", "/api/admin/batches", json=both)["tasks"] == 12
    assert assignments(admin, "both") == {f"crop-{i}.jpg": ["ana", "bob"] for i in range(6)}
    # Two of three per image: two different people on each, four tasks each.
    three = {**both, "name": "two of three", "annotators": ["ana", "bob", "cleo"]}
    assert admin.call("POST", "/api/admin/batches", json=three)["tasks"] == 12
    spread = assignments(admin, "two of three")
    assert all(len(set(people)) == 2 for people in spread.values()) and len(spread) == 6
    assert sorted(p for people in spread.values() for p in people) == ["ana"] * 4 + ["bob"] * 4 + ["cleo"] * 4
    before = admin.call("GET", "/api/admin/progress")
    for k in (0, 3):  # more per image than annotators chosen (or none): refused, nothing made
        refused = call(admin, "POST", "/api/admin/batches", json={**body, "name": "bad", "annotators_per_image": k})
        assert refused.status_code == 400 and refused.json()["field"] == "annotators_per_image"
    twice = {**body, "name": "bad", "annotators": ["ana", "ana"], "annotators_per_image": 2}  # one person, twice
    assert call(admin, "POST", "/api/admin/batches", json=twice).json()["field"] == "annotators_per_image"
    assert admin.call("GET", "/api/admin/progress") == before

    # Several people's recordings of one image export as one Cap record (what the Cap pipeline reads).
    cap = {"task_type": "cap", "image_ids": images[:1], "annotators": ["ana", "bob"], "annotators_per_image": 2}
    assert admin.call("POST", "/api/admin/batches", json={**cap, "name": "cap twice"})["tasks"] == 2
    for person in ("ana", "bob"):
        session = login(admin.base, person)
        task = next(t for t in session.call("GET", "/api/tasks") if t["batch"] == "cap twice")
        session.call(
            "POST", f"/api/tasks/{task['task_id']}/recordings", data={"annotation_id": f"rec-{person}"},
            files={"audio": ("take.wav", tone(tmp_path / f"{person}.wav", 2.0), "audio/wav")},
        )  # fmt: skip
    exported = admin.call("POST", "/api/admin/export", json={"out_dir": str(tmp_path / "export")})
    records = [r for _, r in read_jsonl(str(tmp_path / "export" / CAP_MANIFEST), CapRecord)]
    assert exported["counts"][CAP_MANIFEST] == 1 and len(records) == 1
    assert sorted(records[0].annotators) == ["ana", "bob"] and len(records[0].audio) == 2


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
