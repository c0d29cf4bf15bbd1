"""The annotation app in a real browser: Debian's Chromium driven by Playwright against the real server (uvicorn
on a free port, a temporary data folder and SQLite database). One browser and one server for the module; each
person (admin, annotator) has their own browser context, so their own cookies.

Covers the first-run setup, the admin's users/images/batches, the Points page (clicks, undo, zoom, Enter,
"not present"), the Cap page (speech from espeak-ng through Chromium's fake microphone, the recording window
enforced, upload, replay, re-record), Count verification, the export read back with annotation.exports, and
text with markup shown as text.
"""

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import beam_runner
from annotation.exports import (
    AMA,
    CAP_MANIFEST,
    COUNT_VERIFICATION,
    POINTS,
    AMARecord,
    CapRecord,
    CountVerificationRecord,
    PointsRecord,
    read_jsonl,
)

playwright_sync = pytest.importorskip("playwright.sync_api")
from annotation.app.screenshots import (  # noqa: E402
    CHROMIUM,
    ApiSession,
    bundled_images,
    chromium_args,
    make_app,
    serve_app,
    speech_wav,
)

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed"),
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed"),
]
expect = playwright_sync.expect

WINDOW = (1.5, 3.0)  # the recording window for these tests, in seconds (60-90 s in real use)
ADMIN = ("admin", "admin-password-1")
ANNOTATOR = ("ana", "ana-password-1")
VIEWPORT = {"width": 1280, "height": 900}
DRAFT_TIMEOUT_MS = 180_000  # a guard for a cold language model on a busy machine, not a timing check


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser")


@pytest.fixture(scope="module")
def base(work: Path) -> Iterator[str]:
    app = make_app(str(work / "data"), recording_window_s=WINDOW)
    with serve_app(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser(work: Path) -> Iterator[Any]:
    wav = speech_wav(str(work / "speech.wav"))
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=chromium_args(wav))
        yield browser
        browser.close()


class Person:
    """One browser context (its own cookies) and page, with the JavaScript errors its pages raised."""

    def __init__(self, browser: Any, base: str) -> None:
        self.base = base
        # bypass_csp: Playwright evaluates its waits as strings, which our Content-Security-Policy forbids; with it
        # off, the markup test below proves the pages escape text (not merely that the CSP blocks scripts).
        self.context = browser.new_context(viewport=VIEWPORT, bypass_csp=True)
        self.context.set_default_timeout(20_000)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.dialogs: list[str] = []
        self.keep_page = False  # True: answer "stay on this page" to a leave-page warning
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.type)
        if dialog.type == "beforeunload" and self.keep_page:
            dialog.dismiss()
        else:
            dialog.accept()

    def goto(self, path: str) -> Any:
        self.page.goto(self.base + path)
        return self.page

    def login(self, username: str, password: str, lands_on: str) -> None:
        page = self.goto("/login")
        page.fill("#username", username)
        page.fill("#password", password)
        page.locator("#password").press("Enter")
        page.wait_for_url(f"**{lands_on}")

    def api(self, path: str) -> Any:
        response = self.page.request.get(self.base + path)
        assert response.ok, f"GET {path} -> {response.status}: {response.text()}"
        return response.json()

    def check_no_errors(self) -> None:
        assert not self.errors, f"JavaScript errors: {self.errors}"


@pytest.fixture(scope="module")
def admin(browser: Any, base: str) -> Iterator[Person]:
    person = Person(browser, base)
    yield person
    person.context.close()


@pytest.fixture(scope="module")
def annotator(browser: Any, base: str) -> Iterator[Person]:
    person = Person(browser, base)
    yield person
    person.context.close()


def stage_click(page: Any, fx: float, fy: float) -> None:
    """Click the image at a fraction of its shown size."""
    image = page.locator(".stage img")
    box = image.bounding_box()
    image.click(position={"x": box["width"] * fx, "y": box["height"] * fy})


def shown_points(page: Any) -> list[tuple[float, float]]:
    """The points of the expression being edited, read from the page's point list."""
    texts = page.locator("#points li").all_inner_texts()
    points = []
    for text in texts:
        x, y = text.replace("remove", "").replace("x ", "").replace("y ", "").replace("%", "").split(",")
        points.append((float(x), float(y)))
    return points


@pytest.fixture(scope="module")
def seeded(admin: Person, annotator: Person) -> dict[str, Any]:
    """First-run setup, an annotator, the two sample images, a points batch and a cap batch: all through the UI."""
    page = admin.goto("/setup")
    page.fill("#username", ADMIN[0])
    page.fill("#password", ADMIN[1])
    page.fill("#password2", ADMIN[1] + "x")
    page.click("button[type=submit]")
    expect(page.locator("#message")).to_contain_text("differ")
    page.fill("#password2", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/admin")
    expect(page.locator("#user")).to_contain_text("admin (admin)")

    page.fill("#new-username", ANNOTATOR[0])
    page.fill("#new-password", ANNOTATOR[1])
    page.select_option("#new-role", "annotator")
    page.click("#create-user")
    expect(page.locator("#user-status")).to_contain_text(f"Created annotator “{ANNOTATOR[0]}”")
    expect(page.locator("#users")).to_contain_text(ANNOTATOR[0])

    # The same name again: the server's 409 is shown, not swallowed.
    page.fill("#new-username", ANNOTATOR[0])
    page.fill("#new-password", ANNOTATOR[1])
    page.click("#create-user")
    expect(page.locator("#user-status")).to_have_attribute("data-kind", "error")

    images = bundled_images()
    page.set_input_files("#image-files", [str(p) for p in images])
    page.click("#upload-images")
    expect(page.locator("#image-status")).to_contain_text(f"Added {len(images)} image(s)")
    expect(page.locator("#batch-images .thumb")).to_have_count(len(images))
    by_name = {image["filename"]: image["image_id"] for image in _listing(admin.api("/api/admin/images"), "images")}
    assert sorted(by_name) == sorted(p.name for p in images)

    # Points batch: both images (uploads come selected).
    page.fill("#batch-name", "points-1")
    page.select_option("#batch-type", "points")
    page.check(f"#batch-annotators input[value='{ANNOTATOR[0]}']")
    expect(page.locator("#selected-count")).to_have_text(str(len(images)))
    page.click("#create-batch")
    expect(page.locator("#batch-status")).to_contain_text(f"with {len(images)} task(s)")

    # Cap batch: bus.jpg only.
    page.click("#select-none")
    page.check(f"#batch-images input[value='{by_name['bus.jpg']}']")
    page.fill("#batch-name", "cap-1")
    page.select_option("#batch-type", "cap")
    page.click("#create-batch")
    expect(page.locator("#batch-status")).to_contain_text("with 1 task(s)")
    expect(page.locator("#progress")).to_contain_text("cap-1")
    admin.check_no_errors()

    annotator.login(*ANNOTATOR, lands_on="/tasks")
    expect(annotator.page.locator("#tasks tr")).to_have_count(len(images) + 1)
    tasks = annotator.api("/api/tasks")
    name_of = {str(image_id): name for name, image_id in by_name.items()}
    task_ids = {(t["task_type"], name_of[str(t["image_id"])]): t["task_id"] for t in tasks}
    return {"images": by_name, "tasks": task_ids}


def _listing(data: Any, key: str) -> list[dict[str, Any]]:
    return data if isinstance(data, list) else data[key]


def test_setup_page_refuses_a_second_admin(browser: Any, base: str, seeded: dict[str, Any]) -> None:
    stranger = Person(browser, base)
    page = stranger.goto("/setup")
    page.fill("#username", "mallory")
    page.fill("#password", "mallory-password")
    page.fill("#password2", "mallory-password")
    page.click("button[type=submit]")
    expect(page.locator("#message")).to_have_attribute("data-kind", "error")
    assert page.url.endswith("/setup")
    page.goto(base + "/login")
    page.fill("#username", "mallory")
    page.fill("#password", "mallory-password")
    page.click("button[type=submit]")
    expect(page.locator("#message")).to_have_attribute("data-kind", "error")
    stranger.check_no_errors()
    stranger.context.close()


def test_points_recording_and_export(
    admin: Person, annotator: Person, seeded: dict[str, Any], work: Path, base: str
) -> None:
    page = annotator.goto(f"/task/{seeded['tasks'][('points', 'bus.jpg')]}")
    expect(page.locator("h1#title")).to_have_text("Points")
    expect(page.locator(".stage img")).to_be_visible()
    page.wait_for_function("document.querySelector('.stage img')?.naturalWidth > 0")

    # Enter with an expression but no points explains what is missing and saves nothing.
    page.fill("#label", "person")
    page.locator("#label").press("Enter")
    expect(page.locator(".card .status[role=status]")).to_contain_text("Click every instance")
    expect(page.locator("#saved li")).to_have_count(0)

    clicks = [(0.175, 0.63), (0.33, 0.6), (0.855, 0.64)]
    for fx, fy in clicks + [(0.5, 0.2), (0.6, 0.3)]:
        stage_click(page, fx, fy)
    expect(page.locator("#points li")).to_have_count(5)
    page.keyboard.press("Backspace")  # the image has focus after a click: Backspace undoes
    expect(page.locator("#points li")).to_have_count(4)
    page.keyboard.press("Control+z")
    expect(page.locator("#points li")).to_have_count(3)
    for (x, y), (fx, fy) in zip(shown_points(page), clicks, strict=True):
        assert abs(x - fx * 100) < 0.5 and abs(y - fy * 100) < 0.5, (x, y, fx, fy)

    # Zoom in: a click in the middle of the view lands where the zoomed image says it is.
    page.click("button[aria-label='Zoom in']")
    page.click("button[aria-label='Zoom in']")
    expect(page.locator(".viewer-tools output")).to_have_text("200%")
    expected = page.evaluate(
        """() => {
        const v = document.querySelector('.viewer'), img = document.querySelector('.stage img');
        const r = v.getBoundingClientRect(), i = img.getBoundingClientRect();
        const cx = r.left + v.clientWidth / 2, cy = r.top + v.clientHeight / 2;
        return [cx - r.left, cy - r.top, (cx - i.left) / i.width * 100, (cy - i.top) / i.height * 100];
    }"""
    )
    page.locator(".viewer").click(position={"x": expected[0], "y": expected[1]})
    expect(page.locator("#points li")).to_have_count(4)
    zx, zy = shown_points(page)[-1]
    assert abs(zx - expected[2]) < 0.3 and abs(zy - expected[3]) < 0.3, (zx, zy, expected)
    page.click("#undo")
    expect(page.locator("#points li")).to_have_count(3)
    page.click("button:has-text('Fit')")

    page.click("summary")
    page.fill("#explanation", "one point on each person standing by the bus")
    page.locator("#label").press("Enter")
    expect(page.locator("#saved li")).to_have_count(1)
    expect(page.locator("#saved li").first).to_contain_text("3 points")
    expect(page.locator("#points li")).to_have_count(0)

    page.fill("#label", "giraffe")
    page.click("#not-present")
    expect(page.locator("#saved li")).to_have_count(2)
    expect(page.locator("#saved li").nth(1)).to_contain_text("not present")

    # Saved expressions come back from the server on reload.
    page.reload()
    expect(page.locator("#saved li")).to_have_count(2)
    page.click("#complete")
    page.wait_for_url("**/tasks")

    # Cap: speech from the fake microphone, the window enforced, upload, replay, re-record.
    page = annotator.goto(f"/task/{seeded['tasks'][('cap', 'bus.jpg')]}")
    expect(page.locator("#window")).to_contain_text(f"{WINDOW[0]:g}–{WINDOW[1]:g} s")
    page.click("#record")
    stop = page.locator("#stop")
    expect(stop).to_be_visible()
    expect(stop).to_be_disabled()  # before the window's minimum, stopping is not offered
    expect(stop).to_be_enabled()
    stop.click()
    expect(page.locator("#upload")).to_be_visible()
    page.click("#upload")
    expect(page.locator(".card .status[role=status]")).to_contain_text("The server measured")
    player = page.locator("#player")
    src = player.get_attribute("src")
    assert src and src.startswith("/api/recordings/"), src
    first_recording = src.rsplit("/", 1)[1]
    page.evaluate("document.querySelector('#player').play()")
    page.wait_for_function("document.querySelector('#player').currentTime > 0.3")
    page.evaluate("document.querySelector('#player').pause()")
    replay = page.request.get(base + src)
    assert replay.ok and len(replay.body()) > 1000

    page.click("#record")  # re-record: left to run, it stops by itself at the window's maximum
    expect(page.locator("#upload")).to_be_visible()
    seconds = float(page.locator("#state").inner_text().split("Recorded ")[1].split(" s")[0])
    assert seconds == pytest.approx(WINDOW[1], abs=0.05)
    page.click("#upload")
    expect(page.locator(".card .status[role=status]")).to_contain_text("The server measured")
    second_recording = page.locator("#player").get_attribute("src").rsplit("/", 1)[1]
    assert second_recording != first_recording
    page.click("#complete")
    page.wait_for_url("**/tasks")
    annotator.check_no_errors()

    # The admin exports; the files read back with the exports module.
    page = admin.goto("/admin")
    out = work / "export"
    page.fill("#export-dir", str(out))
    page.click("#export")
    expect(page.locator("#export-path")).to_have_text(str(out))
    expect(page.locator("#export-counts")).to_contain_text(POINTS)
    admin.check_no_errors()

    points = [record for _, record in read_jsonl(str(out / POINTS), PointsRecord)]
    assert all(isinstance(r, PointsRecord) for r in points), points
    by_label = {r.label: r for r in points}
    assert set(by_label) == {"person", "giraffe"}
    person = by_label["person"]
    assert not person.not_present and person.annotator == ANNOTATOR[0]
    assert person.explanation == "one point on each person standing by the bus"
    assert len(person.points) == 3
    for point, (fx, fy) in zip(sorted(person.points, key=lambda p: p.x), clicks, strict=True):
        assert abs(point.x - fx * 100) < 0.5 and abs(point.y - fy * 100) < 0.5
    assert by_label["giraffe"].not_present and by_label["giraffe"].points == []
    assert (out / person.image).is_file()

    caps = [record for _, record in read_jsonl(str(out / CAP_MANIFEST), CapRecord)]
    assert len(caps) == 1 and isinstance(caps[0], CapRecord), caps
    assert len(caps[0].audio) == 1 and second_recording in caps[0].audio[0]  # the re-recording replaced the first
    audio = out / caps[0].audio[0]
    assert audio.is_file()
    decoded = subprocess.run(
        ["ffmpeg", "-hide_banner", "-i", str(audio), "-f", "null", "-"], capture_output=True, text=True, check=True
    ).stderr
    last_time = [part for part in decoded.split() if part.startswith("time=")][-1].removeprefix("time=")
    hours, minutes, secs = last_time.split(":")
    assert WINDOW[0] - 0.5 <= int(hours) * 3600 + int(minutes) * 60 + float(secs) <= WINDOW[1] + 0.5
    info = json.loads((out / "export.json").read_text())
    assert info["counts"][POINTS] == 2

    # The Cap pipeline reads the export: faster-whisper hears what espeak-ng said into the fake microphone.
    # The 135M captioner may invent words for one short recording, and a run that keeps no row is not
    # published by default; --publish-anyway publishes its dead letters so the transcript can be read back.
    data = work / "data"
    beam_runner.main(
        ["cap", "--input", str(out / CAP_MANIFEST), "--output", str(data), "--workers", "1", "--no-progress",
         "--min-audio-seconds", "1", "--caption-tokens", "48", "--llm-cpu-threads", "1", "--asr-cpu-threads", "1",
         "--publish-anyway"]
    )  # fmt: skip
    shards = sorted((data / "cap").glob("*/*.parquet"))
    rows = [r for f in shards for r in pq.read_table(f, columns=["transcripts"]).to_pylist()]
    dead = [json.loads(line) for f in (data / "cap").glob("_rejected/*.jsonl") for line in f.read_text().splitlines()]
    heard = " ".join(t for r in rows for t in r["transcripts"]) + " ".join(
        t for d in dead for t in d["details"].get("transcripts", [])
    )
    assert len(rows) + len([d for d in dead if d["stage"] == "caption"]) == 1, dead
    assert {"red", "white", "city", "bus", "parked"} & set(heard.lower().replace(",", " ").split()), heard


def test_markup_in_a_label_is_shown_as_text(annotator: Person, seeded: dict[str, Any]) -> None:
    hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">bold <b>claim</b>'
    page = annotator.goto(f"/task/{seeded['tasks'][('points', 'zidane.jpg')]}")
    page.wait_for_function("document.querySelector('.stage img')?.naturalWidth > 0")
    page.fill("#label", hostile)
    stage_click(page, 0.3, 0.5)
    # Leaving with a point not saved yet asks first; staying keeps the work.
    annotator.keep_page = True
    with page.expect_event("dialog") as warning:
        page.click("a[href='/tasks']", no_wait_after=True)
    assert warning.value.type == "beforeunload"
    annotator.keep_page = False
    expect(page.locator("#points li")).to_have_count(1)
    assert page.url.endswith(f"/task/{seeded['tasks'][('points', 'zidane.jpg')]}")
    page.locator("#label").press("Enter")
    expect(page.locator("#saved li")).to_have_count(1)
    page.reload()  # now rendered from what the server stored
    label = page.locator("#saved li .label")
    expect(label).to_have_text(hostile)
    assert page.locator("#saved script, #saved img, #saved b").count() == 0
    assert page.evaluate("window.__pwned") is None
    annotator.check_no_errors()


def test_count_verification_fix_and_export(
    admin: Person, annotator: Person, seeded: dict[str, Any], work: Path
) -> None:
    bus = next(p for p in bundled_images() if p.name == "bus.jpg")
    row = {
        "example_id": "count-browser-0001",
        "split": "validation",
        "image_url": str(bus),
        "image_sha256": hashlib.sha256(bus.read_bytes()).hexdigest(),
        "label": "person",
        "count": 3,
        "points": {"x": [17.5, 33.0, 85.5], "y": [63.0, 60.5, 64.0]},
        "boxes": [],
        "question": "How many person are there?",
        "answer": "Counting the people shows a total of 3.",
        "verified": False,
    }
    tasks_file = work / "verification_tasks.jsonl"
    tasks_file.write_text(json.dumps(row) + "\n", encoding="utf-8")
    page = admin.goto("/admin")
    page.set_input_files("#verify-file", str(tasks_file))
    page.set_input_files("#verify-images", str(bus))
    page.check(f"#verify-annotators input[value='{ANNOTATOR[0]}']")
    page.click("#upload-verify")
    expect(page.locator("#verify-status")).to_have_attribute("data-kind", "ok")

    task = next(t for t in annotator.api("/api/tasks") if t["task_type"] == "verify")
    page = annotator.goto(f"/task/{task['task_id']}")
    expect(page.locator("#row-label")).to_have_text("person")
    expect(page.locator("#row-count")).to_have_text("3")
    expect(page.locator(".stage .marker:not(.saved)")).to_have_count(3)
    page.wait_for_function("document.querySelector('.stage img')?.naturalWidth > 0")
    page.click("#fix")
    stage_click(page, 0.07, 0.79)
    expect(page.locator("#points li")).to_have_count(4)
    expect(page.locator("#count")).to_have_value("4")  # the count follows the points
    page.click("#save-fix")
    expect(page.locator("#verdict")).to_contain_text("fixed")
    page.click("#complete")
    page.wait_for_url("**/tasks")
    annotator.check_no_errors()

    page = admin.goto("/admin")
    out = work / "export-verification"
    page.fill("#export-dir", str(out))
    page.click("#export")
    expect(page.locator("#export-counts")).to_contain_text(COUNT_VERIFICATION)
    records = [record for _, record in read_jsonl(str(out / COUNT_VERIFICATION), CountVerificationRecord)]
    assert len(records) == 1 and isinstance(records[0], CountVerificationRecord), records
    record = records[0]
    assert (record.example_id, record.verdict, record.count) == ("count-browser-0001", "fixed", 4)
    assert len(record.points) == 4
    added = [p for p in record.points if abs(p.x - 7.0) < 0.5 and abs(p.y - 79.0) < 0.5]
    assert len(added) == 1, record.points
    admin.check_no_errors()


def test_ama_draft_reject_redraft_edit_and_export(
    admin: Person, annotator: Person, seeded: dict[str, Any], work: Path
) -> None:
    page = admin.goto("/admin")
    page.click("#select-none")
    page.check(f"#batch-images input[value='{seeded['images']['bus.jpg']}']")
    page.fill("#batch-name", "ama-1")
    page.select_option("#batch-type", "ama")
    page.check(f"#batch-annotators input[value='{ANNOTATOR[0]}']")
    page.click("#create-batch")
    expect(page.locator("#batch-status")).to_contain_text("with 1 task(s)")

    task = next(t for t in annotator.api("/api/tasks") if t["task_type"] == "ama")
    page = annotator.goto(f"/task/{task['task_id']}")
    question = "What colour is the <bus>?"
    page.fill("#question", question)
    page.locator("#question").press("Enter")
    card = page.locator("article.question")
    expect(card.locator(".q")).to_have_text(question)
    expect(card.locator(".spinner")).to_be_visible()  # drafting takes a while: progress is shown
    expect(card.locator("[data-act=accept]")).to_be_visible(timeout=DRAFT_TIMEOUT_MS)
    first_draft = card.locator(".round .draft").first.inner_text()
    assert first_draft.strip()

    card.locator("[data-act=reject]").click()
    card.locator("[data-act=confirm-reject]").click()  # no reason: refused with a message
    expect(card.locator(".status[role=alert]")).to_contain_text("Say why")
    card.locator("input[id^=reason]").fill("It does not name the colour.")
    card.locator("input[id^=reason]").press("Enter")
    expect(card.locator(".round.rejected")).to_contain_text("It does not name the colour.")
    card.locator("button:has-text('Ask for a new draft')").click()
    expect(card.locator("[data-act=edit]")).to_be_visible(timeout=DRAFT_TIMEOUT_MS)
    expect(card.locator(".round")).to_have_count(2)
    card.locator("[data-act=edit]").click()
    card.locator("textarea[id^=edit]").fill("The bus is blue and white.")
    card.locator("[data-act=save-edit]").click()
    expect(card.locator(".round.edited")).to_contain_text("The bus is blue and white.")

    page.reload()  # every round comes back from the server
    expect(page.locator("article.question .round")).to_have_count(2)
    annotator.check_no_errors()

    page = admin.goto("/admin")
    out = work / "export-ama"
    page.fill("#export-dir", str(out))
    page.click("#export")
    expect(page.locator("#export-counts")).to_contain_text(AMA)
    records = [record for _, record in read_jsonl(str(out / AMA), AMARecord)]
    assert len(records) == 1 and isinstance(records[0], AMARecord), records
    record = records[0]
    assert record.question == question and record.final_answer == "The bus is blue and white."
    assert [r.action for r in record.rounds] == ["rejected", "edited"]
    assert record.rounds[0].reason == "It does not name the colour." and record.rounds[0].draft == first_draft
    admin.check_no_errors()


def test_a_long_list_of_saved_expressions_is_paged(annotator: Person, seeded: dict[str, Any], base: str) -> None:
    admin_api, ana_api = ApiSession(base), ApiSession(base)
    admin_api.call("POST", "/api/login", json={"username": ADMIN[0], "password": ADMIN[1]})
    ana_api.call("POST", "/api/login", json={"username": ANNOTATOR[0], "password": ANNOTATOR[1]})
    batch = {"task_type": "points", "image_ids": [seeded["images"]["bus.jpg"]], "annotators": [ANNOTATOR[0]]}
    admin_api.call("POST", "/api/admin/batches", json={**batch, "name": "many expressions"})
    task = next(t for t in ana_api.call("GET", "/api/tasks") if t["batch"] == "many expressions")["task_id"]
    for i in range(1, 247):  # as many as the annotator in the report had saved
        body = {"annotation_id": f"many-{i:03d}", "label": f"expression {i}", "points": [{"x": i / 3, "y": 50.0}]}
        ana_api.call("POST", f"/api/tasks/{task}/points", json=body)

    page = annotator.goto(f"/task/{task}")
    expect(page.locator("#saved-title")).to_have_text("Saved expressions (246)")
    expect(page.locator("#saved li")).to_have_count(10)  # the newest page, in the order they were saved
    expect(page.locator("#saved-range")).to_have_text("237–246 of 246")
    expect(page.locator("#saved li .label").last).to_have_text("expression 246")
    expect(page.locator("#saved-newer")).to_be_disabled()
    expect(page.locator(".stage .marker.saved")).to_have_count(246)  # every saved point is still drawn
    assert page.evaluate("document.documentElement.scrollHeight") < 2000  # was 15,000 px with every expression
    page.click("#saved-older")
    expect(page.locator("#saved-range")).to_have_text("227–236 of 246")
    expect(page.locator("#saved li .label").first).to_have_text("expression 227")
    for _ in range(23):
        page.click("#saved-older")
    expect(page.locator("#saved-range")).to_have_text("1–6 of 246")  # the oldest page holds what is left
    expect(page.locator("#saved li")).to_have_count(6)
    expect(page.locator("#saved-older")).to_be_disabled()

    # Saving another shows the newest page again, with it last.
    page.wait_for_function("document.querySelector('.stage img')?.naturalWidth > 0")
    page.fill("#label", "one more")
    stage_click(page, 0.5, 0.8)
    page.locator("#label").press("Enter")
    expect(page.locator("#saved-title")).to_have_text("Saved expressions (247)")
    expect(page.locator("#saved-range")).to_have_text("238–247 of 247")
    expect(page.locator("#saved li .label").last).to_have_text("one more")
    expect(page.locator(".stage .marker.saved")).to_have_count(247)
    annotator.check_no_errors()
