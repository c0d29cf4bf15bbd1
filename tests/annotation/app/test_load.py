"""Many annotators at once against a real server: 20 sessions in parallel, 20 point annotations each, a third of
them sent twice (a retry with the same id), some retries racing the first send. Exactly one row per id is stored."""

import sqlite3
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from annotation.exports import POINTS, PointsRecord, read_jsonl
from tests.annotation.app.api_client import call, login, password, running, set_up, tasks_of

CLIENTS, EACH = 20, 20


def test_many_annotators_at_once_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    with running(tmp_path / "data") as base:
        admin = set_up(base, annotators=())
        bus = admin.images["bus.jpg"]
        for i in range(CLIENTS):
            admin.call("POST", "/api/admin/users", json={"username": f"load{i}", "password": password(f"load{i}")})
            body = {"task_type": "points", "image_ids": [bus], "annotators": [f"load{i}"], "name": f"load{i}"}
            admin.call("POST", "/api/admin/batches", json=body)
        sent: dict[str, str] = {}  # annotation id -> label
        errors: list[str] = []
        lock = threading.Lock()

        def annotate(i: int) -> None:
            session = login(base, f"load{i}")
            path = f"/api/tasks/{tasks_of(session, 'points')[0]['task_id']}/points"
            with ThreadPoolExecutor(2) as racing:  # this session's own retries race its first sends
                for k in range(EACH):
                    body = {"annotation_id": uuid.uuid4().hex, "label": f"thing {i}-{k}",
                            "points": [{"x": k * 5.0, "y": 50.0}], "not_present": False}  # fmt: skip
                    sends = 2 if k % 3 == 0 else 1
                    responses = list(racing.map(lambda b: call(session, "POST", path, json=b), [body] * sends))
                    with lock:
                        errors.extend(r.text for r in responses if r.status_code != 200)
                        sent[body["annotation_id"]] = body["label"]

        with ThreadPoolExecutor(CLIENTS) as pool:
            futures = [pool.submit(annotate, i) for i in range(CLIENTS)]
            for future in futures:
                future.result(timeout=120)  # a guard against a hang, not a timing check
        assert errors == [] and len(sent) == CLIENTS * EACH

        stored = (
            sqlite3.connect(tmp_path / "data" / "annotation.db")
            .execute("select id, payload from annotations where kind = 'points'")
            .fetchall()
        )
        assert len(stored) == CLIENTS * EACH and {i for i, _ in stored} == set(sent)
        progress = admin.call("GET", "/api/admin/progress")
        assert sum(b["by_type"].get("points", 0) for b in progress["batches"]) == CLIENTS * EACH
        export = admin.call("POST", "/api/admin/export", json={})
        records = [r for _, r in read_jsonl(str(Path(export["export_dir"]) / POINTS), PointsRecord)]
        assert all(isinstance(r, PointsRecord) for r in records)
        assert {r.record_id: r.label for r in records} == sent and len(records) == CLIENTS * EACH
