"""The annotator API against a real server: who sees what, idempotent submits, bad input, Cap recordings, AMA
rounds (a stand-in drafter for the protocol, the real AnswerDrafter once), Count verification, finishing a task."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from annotation.ama.drafting import Draft, DraftError
from annotation.app.screenshots import ApiSession, bundled_images, make_app, serve_app
from inference.llm import LLMConfig
from tests.annotation.app.api_client import WINDOW, call, login, points_body, set_up, speech, tasks_of, to_webm, tone

MAX_AUDIO = 400_000


class StandInDrafter:
    """Drafts without a model (the real AnswerDrafter runs in test_ama_with_the_real_drafter)."""

    def draft(self, image_bytes: bytes, question: str, caption: str = "", seed: int = 0) -> Draft:
        if "fail" in question:
            raise DraftError("the language model failed: connection refused")
        return Draft(answer=f"draft {seed} ({len(image_bytes)} bytes, caption {caption[:5]!r})", ocr_text="OCR",
                     model="stand-in", prompt_version="test")  # fmt: skip

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = make_app(str(tmp_path_factory.mktemp("tasks")), recording_window_s=WINDOW, max_audio_bytes=MAX_AUDIO)
    app.state.app_state._drafter = StandInDrafter()
    with serve_app(app) as url:
        admin = set_up(url, task_types=("points", "cap", "ama"))
        row = {"example_id": "count-1", "image_url": "bus.jpg", "label": "person", "count": 2,
               "points": {"x": [10.0, 20.0], "y": [30.0, 40.0]}}  # fmt: skip
        bus = next(p for p in bundled_images() if p.name == "bus.jpg")
        admin.call(
            "POST", "/api/admin/verification-tasks", data={"annotators": "ana"},
            files=[("file", ("verification_tasks.jsonl", (__import__("json").dumps(row) + "\n").encode())),
                   ("files", (bus.name, bus.read_bytes(), "image/jpeg"))],
        )  # fmt: skip
        yield url


@pytest.fixture(scope="module")
def ana(base: str) -> ApiSession:
    return login(base, "ana")


def task_id(session: ApiSession, task_type: str) -> str:
    return tasks_of(session, task_type)[0]["task_id"]


def test_annotators_see_only_their_own_tasks_images_and_recordings(base: str, ana: ApiSession, tmp_path: Path) -> None:
    bob = login(base, "bob")
    mine, theirs = ana.call("GET", "/api/tasks"), bob.call("GET", "/api/tasks")
    assert mine and theirs and not {t["task_id"] for t in mine} & {t["task_id"] for t in theirs}
    bobs_points, bobs_cap = task_id(bob, "points"), task_id(bob, "cap")
    assert call(ana, "GET", f"/api/tasks/{bobs_points}").status_code == 404
    assert call(ana, "POST", f"/api/tasks/{bobs_points}/points", json=points_body()).status_code == 404
    assert call(ana, "POST", f"/api/tasks/{bobs_points}/complete").status_code == 404
    for image_id in {t["image_id"] for t in theirs} - {t["image_id"] for t in mine}:
        assert call(ana, "GET", f"/api/images/{image_id}").status_code == 404
    wav = speech(tmp_path / "bob.wav", "A bus with people beside it.")
    saved = call(bob, "POST", f"/api/tasks/{bobs_cap}/recordings", data={"annotation_id": "bob-rec"},
                 files={"audio": ("b.wav", wav, "audio/wav")})  # fmt: skip
    assert saved.status_code == 200, saved.text
    assert call(ana, "GET", "/api/recordings/bob-rec").status_code == 404
    assert call(ana, "DELETE", f"/api/tasks/{bobs_cap}/recordings/bob-rec").status_code == 404
    assert call(ana, "GET", "/api/admin/progress").status_code == 403
    image = ana.client.get(f"/api/images/{mine[0]['image_id']}")
    assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"


def test_a_repeated_submit_stores_one_annotation_and_other_content_is_a_conflict(ana: ApiSession) -> None:
    path = f"/api/tasks/{task_id(ana, 'points')}/points"
    body = points_body("dog", ((50.0, 50.0), (60.0, 40.0)))
    first, again = call(ana, "POST", path, json=body), call(ana, "POST", path, json=body)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    changed = call(ana, "POST", path, json={**body, "label": "cat"})
    assert changed.status_code == 409 and "already used" in changed.json()["error"]
    saved = [
        a
        for a in ana.call("GET", path.removesuffix("/points"))["annotations"]
        if a["annotation_id"] == body["annotation_id"]
    ]
    assert len(saved) == 1 and saved[0]["label"] == "dog" and saved[0]["points"] == body["points"]
    not_present = points_body("a unicorn", ())
    assert ana.call("POST", path, json={**not_present, "explanation": "no unicorns"})["not_present"] is True


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (points_body(points=((101.0, 5.0),)), "points", "outside the image"),
        (points_body(points=((5.0, -0.1),)), "points", "outside the image"),
        (points_body(label="   "), "label", "empty"),
        (points_body(label="x" * 100_000), "label", "longer than"),
        ({**points_body(), "not_present": True}, "points", "no points"),
        ({**points_body(), "not_present": False, "points": []}, "points", "Click every instance"),
        ({**points_body(), "annotation_id": "../../etc/passwd"}, "annotation_id", "letters, digits"),
        ({**points_body(), "points": "many"}, "points", ""),
        ({"label": "no id"}, "annotation_id", ""),
    ],
)
def test_bad_points_are_refused_with_the_field(ana: ApiSession, body: dict, field: str, message: str) -> None:
    response = call(ana, "POST", f"/api/tasks/{task_id(ana, 'points')}/points", json=body)
    assert response.status_code == 400 and response.json()["field"] == field and message in response.json()["error"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "The request body is not valid JSON"),
        (b'{"annotation_id": "a", "label": "dog",', "The request body is not valid JSON"),  # cut off
        (b"\xff\xfe", "The request body is not valid JSON"),
        (b"", "The request body is empty"),
        (b'["a", "list"]', "The request body must be a JSON object"),
        (b'"a string"', "The request body must be a JSON object"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused_as_such(ana: ApiSession, content: bytes, message: str) -> None:
    response = call(
        ana, "POST", f"/api/tasks/{task_id(ana, 'points')}/points", content=content,
        headers={"content-type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 400 and response.headers["content-type"] == "application/json"
    assert response.json()["error"].startswith(message) and response.json()["field"] is None, response.json()


def test_a_wrong_field_inside_good_json_is_still_named(ana: ApiSession) -> None:
    body = {**points_body(), "points": [{"x": 1, "y": 2}, {"x": "left", "y": 2}]}
    response = call(ana, "POST", f"/api/tasks/{task_id(ana, 'points')}/points", json=body)
    assert response.status_code == 400 and response.json()["field"] == "points.1.x"
    assert response.json()["error"].startswith("points.1.x: ")


def test_saved_work_comes_a_page_at_a_time(base: str, ana: ApiSession) -> None:
    admin = login(base, "admin")
    image = next(iter(admin.call("GET", "/api/admin/images")))["image_id"]
    batch = {"task_type": "points", "image_ids": [image], "annotators": ["ana"], "name": "many expressions"}
    admin.call("POST", "/api/admin/batches", json=batch)
    task = next(t for t in ana.call("GET", "/api/tasks") if t["batch"] == "many expressions")["task_id"]
    labels = [f"expression {i:03d}" for i in range(45)]
    for label in labels:
        ana.call("POST", f"/api/tasks/{task}/points", json=points_body(label))
    path = f"/api/tasks/{task}/annotations"
    first = ana.call("GET", path)
    assert (first["total"], first["offset"], first["limit"], len(first["annotations"])) == (45, 0, 20, 20)
    pages = [ana.call("GET", path, params={"kind": "points", "offset": o, "limit": 20}) for o in (0, 20, 40)]
    assert [a["label"] for page in pages for a in page["annotations"]] == labels  # every one once, in order
    assert pages[0]["annotations"][0].keys() >= {"annotation_id", "kind", "label", "points", "not_present"}
    assert ana.call("GET", path, params={"offset": 100})["annotations"] == []
    assert ana.call("GET", path, params={"kind": "recording"})["total"] == 0
    detail = ana.call("GET", f"/api/tasks/{task}")["annotations"]  # the task itself still carries all of them
    assert [a["label"] for a in detail] == labels
    for params, field in (({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"offset": -1}, "offset"),
                          ({"kind": "video"}, "kind"), ({"limit": "many"}, "limit")):  # fmt: skip
        refused = call(ana, "GET", path, params=params)
        assert refused.status_code == 400 and refused.json()["field"] == field, refused.json()
    assert call(login(base, "bob"), "GET", path).status_code == 404  # not bob's task


def test_recordings_are_checked_replayed_and_a_new_one_supersedes(ana: ApiSession, tmp_path: Path) -> None:
    path = f"/api/tasks/{task_id(ana, 'cap')}/recordings"

    def upload(data: bytes, name: str, annotation_id: str) -> Any:
        return call(ana, "POST", path, data={"annotation_id": annotation_id, "duration_s": "2"},
                    files={"audio": (name, data, "audio/webm")})  # fmt: skip

    wav = speech(tmp_path / "a.wav", "A red bus on a street with people.")
    png = bundled_images()[0].read_bytes()
    as_audio = upload(png, "x.webm", "r-png")  # an image posted as audio
    assert (
        as_audio.status_code == 400 and as_audio.json()["field"] == "audio" and "not audio" in as_audio.json()["error"]
    )
    garbage = upload(b"RIFF\x00\x00WAVEfmt nonsense", "y.wav", "r-junk")
    assert garbage.status_code == 400 and "not an audio file" in garbage.json()["error"]
    long_wav = speech(tmp_path / "b.wav", "This description goes on for longer than the short test window allows. " * 2)
    too_long = upload(long_wav, "b.wav", "r-long")
    assert too_long.status_code == 400 and "must be 1-4 s long" in too_long.json()["error"]
    short = upload(tone(tmp_path / "c.wav", 0.3), "c.wav", "r-short")
    assert short.status_code == 400 and "must be 1-4 s long" in short.json()["error"]
    huge = upload(b"\x00" * (MAX_AUDIO + 1), "big.webm", "r-big")
    assert huge.status_code == 413 and "too large" in huge.json()["error"]
    first = upload(wav, "../../etc/passwd", "r-1")
    assert first.status_code == 200 and 1 <= first.json()["seconds"] <= 4 and first.json()["extension"] == "wav"
    assert upload(wav, "a.wav", "r-1").json() == first.json()  # a retry
    assert upload(to_webm(tmp_path / "a.wav"), "a.webm", "r-1").status_code == 409  # the same id, other audio
    assert upload(to_webm(tmp_path / "a.wav"), "a.webm", "r-2").json()["extension"] == "webm"  # a re-recording
    recordings = [
        a for a in ana.call("GET", path.removesuffix("/recordings"))["annotations"] if a["kind"] == "recording"
    ]
    assert [(a["annotation_id"], a["superseded"]) for a in recordings] == [("r-1", True), ("r-2", False)]
    replay = ana.client.get("/api/recordings/r-1")
    assert replay.content == wav and replay.headers["content-type"] == "audio/wav"
    assert call(ana, "DELETE", f"{path}/r-2").json() == {"annotation_id": "r-2", "deleted": True}
    assert [a["annotation_id"] for a in ana.call("GET", path.removesuffix("/recordings"))["annotations"]
            if a["kind"] == "recording"] == ["r-1"]  # fmt: skip


def test_ama_rounds_are_all_kept(ana: ApiSession) -> None:
    path = f"/api/tasks/{task_id(ana, 'ama')}/ama"
    question = {"question_id": uuid.uuid4().hex, "question": "What colour is the bus?"}
    first = ana.call("POST", f"{path}/draft", json=question)
    assert first["round"] == 1 and first["draft"].startswith("draft 1")
    assert ana.call("POST", f"{path}/draft", json=question) == first  # a retry before the review: the same draft
    review = {"question_id": question["question_id"], "round": 1, "action": "rejected"}
    no_reason = call(ana, "POST", f"{path}/review", json=review)
    assert no_reason.status_code == 400 and no_reason.json()["field"] == "reason"
    ana.call("POST", f"{path}/review", json={**review, "reason": "wrong colour"})
    assert ana.call("POST", f"{path}/review", json={**review, "reason": "wrong colour"})["action"] == "rejected"
    assert call(ana, "POST", f"{path}/review", json={**review, "action": "accepted"}).status_code == 409
    second = ana.call("POST", f"{path}/draft", json=question)
    assert second["round"] == 2 and second["draft"].startswith("draft 2")
    edit = {"question_id": question["question_id"], "round": 2, "action": "edited", "edited_answer": "It is red."}
    ana.call("POST", f"{path}/review", json=edit)
    assert call(ana, "POST", f"{path}/draft", json=question).status_code == 409  # answered
    saved = next(
        a
        for a in ana.call("GET", path.removesuffix("/ama"))["annotations"]
        if a["annotation_id"] == question["question_id"]
    )
    assert [(r["round"], r["action"], r["reason"], r["edited_answer"]) for r in saved["rounds"]] == [
        (1, "rejected", "wrong colour", ""),
        (2, "edited", "", "It is red."),
    ]
    failed = call(ana, "POST", f"{path}/draft", json={"question_id": "q-fail", "question": "Please fail?"})
    assert failed.status_code == 502 and "connection refused" in failed.json()["error"]
    empty = call(ana, "POST", f"{path}/draft", json={"question_id": "q-empty", "question": " "})
    assert empty.status_code == 400 and empty.json()["field"] == "question"


def test_count_verification_and_finishing_a_task(ana: ApiSession) -> None:
    verify_id = task_id(ana, "verify")
    detail = ana.call("GET", f"/api/tasks/{verify_id}")
    assert detail["count_row"]["count"] == 2 and detail["count_row"]["points"] == [
        {"x": 10.0, "y": 30.0},
        {"x": 20.0, "y": 40.0},
    ]
    body = {"annotation_id": "v-1", "verdict": "fixed", "count": 3, "points": [{"x": 1, "y": 2}] * 2}
    mismatch = call(ana, "POST", f"/api/tasks/{verify_id}/verify", json=body)
    assert mismatch.status_code == 400 and mismatch.json()["field"] == "count"
    bad_verdict = call(ana, "POST", f"/api/tasks/{verify_id}/verify", json={**body, "verdict": "maybe"})
    assert bad_verdict.status_code == 400 and bad_verdict.json()["field"] == "verdict"
    body["points"] = [{"x": 1, "y": 2}, {"x": 3, "y": 4}, {"x": 5, "y": 6}]
    assert ana.call("POST", f"/api/tasks/{verify_id}/verify", json=body)["verdict"] == "fixed"
    assert ana.call("POST", f"/api/tasks/{verify_id}/complete")["status"] == "done"
    assert ana.call("POST", f"/api/tasks/{verify_id}/verify", json=body)["count"] == 3  # a late retry: still 200
    late = call(ana, "POST", f"/api/tasks/{verify_id}/verify", json={**body, "annotation_id": "v-2"})
    assert late.status_code == 409 and "finished" in late.json()["error"]
    assert next(t for t in ana.call("GET", "/api/tasks") if t["task_id"] == verify_id)["status"] == "done"


def test_ama_with_the_real_drafter(tmp_path: Path) -> None:
    """The app's own AnswerDrafter: rapidocr reads the image, the embedded SmolLM2 (one CPU thread) drafts."""
    app = make_app(str(tmp_path), recording_window_s=WINDOW, llm=LLMConfig(batch_size=1, cpu_threads=1))
    with serve_app(app) as url:
        set_up(url, annotators=("ana",), task_types=("ama",))
        ana = login(url, "ana")
        bus_task = next(
            t for t in ana.call("GET", "/api/tasks") if ana.call("GET", f"/api/tasks/{t['task_id']}")["caption"]
        )
        path = f"/api/tasks/{bus_task['task_id']}/ama"
        question = {"question_id": "q-real", "question": "What vehicle is in the picture?"}
        first = ana.call("POST", f"{path}/draft", json=question)
        assert first["round"] == 1 and first["draft"].strip()
        ana.call(
            "POST",
            f"{path}/review",
            json={"question_id": "q-real", "round": 1, "action": "rejected", "reason": "vague"},
        )
        second = ana.call("POST", f"{path}/draft", json=question)
        assert second["round"] == 2 and second["draft"].strip()
        ana.call("POST", f"{path}/review", json={"question_id": "q-real", "round": 2, "action": "accepted"})
    from sqlalchemy import text

    from annotation.app.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'annotation.db'}")
    with engine.connect() as connection:
        rounds = connection.execute(text("select round, action, model, prompt_version, ocr_text from ama_rounds")).all()
    engine.dispose()
    assert [(r[0], r[1]) for r in rounds] == [(1, "rejected"), (2, "accepted")]
    assert all("SmolLM2" in r[2] and r[3] and r[4] for r in rounds)  # the bus photo has text on it for OCR
