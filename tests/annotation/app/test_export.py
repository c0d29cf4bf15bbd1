"""The export: all four record files and the files they point at, read back by annotation.exports with no errors;
built beside the target and renamed into place, so a failed export leaves the previous one whole."""

import json
import os
from pathlib import Path

import pytest

from annotation import exports
from annotation.ama.drafting import Draft
from annotation.app.export import export_all
from annotation.app.screenshots import bundled_images, make_app, serve_app
from tests.annotation.app.api_client import WINDOW, login, points_body, set_up, speech, tasks_of

FILES = {
    exports.CAP_MANIFEST: exports.CapRecord,
    exports.POINTS: exports.PointsRecord,
    exports.AMA: exports.AMARecord,
    exports.COUNT_VERIFICATION: exports.CountVerificationRecord,
}


class OneLineDrafter:
    def draft(self, image_bytes: bytes, question: str, caption: str = "", seed: int = 0) -> Draft:
        return Draft(answer=f"Answer {seed}.", ocr_text="BUS", model="stand-in", prompt_version="v")

    def close(self) -> None:
        pass


def test_export_of_every_kind_reads_back_and_replaces_whole(tmp_path: Path) -> None:
    app = make_app(str(tmp_path / "data"), recording_window_s=WINDOW)
    app.state.app_state._drafter = OneLineDrafter()  # the real drafter runs in test_api_tasks
    with serve_app(app) as base:
        admin = set_up(base, annotators=("ana",), task_types=("points", "cap", "ama"))
        bus = next(p for p in bundled_images() if p.name == "bus.jpg")
        row = {
            "example_id": "count-7",
            "image_sha256": admin.images["bus.jpg"],
            "count": 1,
            "points": {"x": [5], "y": [6]},
        }
        files = [("file", ("t.jsonl", json.dumps(row).encode())), ("files", ("bus.jpg", bus.read_bytes()))]
        admin.call("POST", "/api/admin/verification-tasks", data={"annotators": "ana"}, files=files)
        ana = login(base, "ana")
        points_task, cap_task = tasks_of(ana, "points")[0]["task_id"], tasks_of(ana, "cap")[0]["task_id"]
        ama_task, verify_task = tasks_of(ana, "ama")[0]["task_id"], tasks_of(ana, "verify")[0]["task_id"]
        ana.call(
            "POST", f"/api/tasks/{points_task}/points", json=points_body("<b>bus</b> & co", ((10, 20), (30, 40)), "p-1")
        )
        ana.call("POST", f"/api/tasks/{points_task}/points", json=points_body("a unicorn", (), "p-2"))
        wav = speech(tmp_path / "a.wav", "A red bus on a street with people.")
        for rid in ("r-1", "r-2"):  # r-2 re-records: only it is exported
            ana.call("POST", f"/api/tasks/{cap_task}/recordings", data={"annotation_id": rid},
                     files={"audio": ("a.wav", wav, "audio/wav")})  # fmt: skip
        q = {"question_id": "q-1", "question": "What is it?"}
        ana.call("POST", f"/api/tasks/{ama_task}/ama/draft", json=q)
        ana.call(
            "POST",
            f"/api/tasks/{ama_task}/ama/review",
            json={"question_id": "q-1", "round": 1, "action": "rejected", "reason": "no"},
        )
        ana.call("POST", f"/api/tasks/{ama_task}/ama/draft", json=q)
        ana.call(
            "POST", f"/api/tasks/{ama_task}/ama/review", json={"question_id": "q-1", "round": 2, "action": "accepted"}
        )
        ana.call(
            "POST",
            f"/api/tasks/{verify_task}/verify",
            json={"annotation_id": "v-1", "verdict": "correct", "count": 1, "points": [{"x": 5, "y": 6}]},
        )
        out = tmp_path / "exports" / "first"
        result = admin.call("POST", "/api/admin/export", json={"out_dir": str(out)})

    assert result["counts"] == {
        exports.CAP_MANIFEST: 1,
        exports.POINTS: 2,
        exports.AMA: 1,
        exports.COUNT_VERIFICATION: 1,
    }
    records = {}
    for name, cls in FILES.items():
        read = [r for _, r in exports.read_jsonl(str(out / name), cls)]
        assert read and all(isinstance(r, cls) for r in read), read
        records[name] = read
        for record in read:
            assert not os.path.isabs(record.image) and (out / record.image).is_file()
    cap = records[exports.CAP_MANIFEST][0]
    assert cap.audio == ["audio/r-2.wav"] and (out / cap.audio[0]).read_bytes() == wav and cap.annotators == ["ana"]
    labels = {r.record_id: (r.label, r.not_present, len(r.points)) for r in records[exports.POINTS]}
    assert labels == {"p-1": ("<b>bus</b> & co", False, 2), "p-2": ("a unicorn", True, 0)}
    ama = records[exports.AMA][0]
    assert [r.action for r in ama.rounds] == ["rejected", "accepted"] and ama.final_answer == "Answer 2."
    verdict = records[exports.COUNT_VERIFICATION][0]
    assert (verdict.example_id, verdict.verdict, verdict.count) == ("count-7", "correct", 1)
    info = json.loads((out / exports.EXPORT_INFO).read_text())
    referenced = {r.image for read in records.values() for r in read}
    assert info["counts"] == result["counts"] and info["images"] == len(referenced)
    assert sorted(f"images/{p.name}" for p in (out / "images").iterdir()) == sorted(referenced)

    # Offline (as the CLI does): a failure part-way leaves the previous export whole and no temp folder behind.
    state = make_app(str(tmp_path / "data"), recording_window_s=WINDOW).state.app_state
    (out / "stray.txt").write_text("from the previous export")
    os.remove(state.storage.audio_path("r-2", "wav"))
    with pytest.raises(FileNotFoundError):
        export_all(state, str(out))
    assert (out / "stray.txt").exists() and [p.name for p in out.parent.iterdir()] == ["first"]
    state.storage.save_audio("r-2", wav)
    assert export_all(state, str(out))["counts"] == result["counts"]
    assert not (out / "stray.txt").exists() and [p.name for p in out.parent.iterdir()] == ["first"]
    state.close()
