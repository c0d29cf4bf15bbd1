"""Export everything people made as the files the pipelines read (annotation/exports.py), atomically.

The export is built in a temporary folder next to the target and renamed into place, so a reader never sees half an
export; an existing export at the target is replaced whole. Images and recordings are copied in, so the folder is
self-contained (paths inside records are relative to it).
"""

import json
import os
import shutil
import tempfile
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from annotation import exports
from annotation.app.db import transaction
from annotation.app.models import AMARound, Annotation, StoredImage, Task, User
from annotation.app.security import now


def _iso(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def export_all(app: Any, out_dir: str) -> dict[str, Any]:
    with transaction(app.readers) as db:  # one consistent snapshot of everything
        users = {u.id: u.username for u in db.scalars(select(User))}
        tasks = {t.id: t for t in db.scalars(select(Task))}
        images = {i.id: i for i in db.scalars(select(StoredImage))}
        annotations = list(
            db.scalars(
                select(Annotation).where(Annotation.deleted.is_(False)).order_by(Annotation.created_at, Annotation.id)
            )
        )
        rounds = defaultdict(list)
        for r in db.scalars(select(AMARound).order_by(AMARound.question_id, AMARound.round)):
            rounds[r.question_id].append(r)

    parent = os.path.dirname(out_dir.rstrip("/")) or "."
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".export-", dir=parent)
    try:
        os.makedirs(os.path.join(staging, "images"))
        os.makedirs(os.path.join(staging, "audio"))
        copied: set[str] = set()

        def image_ref(image_id: str) -> str:
            image = images[image_id]
            name = f"images/{image.id}.{image.extension}"
            if name not in copied:
                shutil.copyfile(app.storage.image_path(image.id, image.extension), os.path.join(staging, name))
                copied.add(name)
            return name

        cap: dict[str, exports.CapRecord] = {}
        points, ama, verification = [], [], []
        for a in annotations:
            task = tasks[a.task_id]
            who, payload = users.get(task.annotator_id, ""), json.loads(a.payload)
            if a.kind == "recording" and not a.superseded:
                name = f"audio/{a.id}.{payload['extension']}"
                shutil.copyfile(app.storage.audio_path(a.id, payload["extension"]), os.path.join(staging, name))
                record = cap.setdefault(
                    task.image_id,
                    exports.CapRecord(record_id=f"cap-{task.image_id[:20]}", image=image_ref(task.image_id), audio=[]),
                )
                record.audio.append(name)
                record.annotators.append(who)
            elif a.kind == "points":
                points.append(
                    exports.PointsRecord(
                        record_id=a.id, image=image_ref(task.image_id), label=payload["label"],
                        points=[exports.Point(**p) for p in payload["points"]], not_present=payload["not_present"],
                        explanation=payload.get("explanation", ""), annotator=who, created_at=_iso(a.created_at),
                    )
                )  # fmt: skip
            elif a.kind == "ama_question":
                question_rounds = [
                    exports.AMARound(
                        draft=r.draft, action=r.action, reason=r.reason, edited_answer=r.edited_answer, model=r.model,
                        prompt_version=r.prompt_version, ocr_text=r.ocr_text, at=_iso(r.reviewed_at or r.drafted_at),
                    )
                    for r in rounds[a.id]
                    if r.action  # a draft nobody reviewed yet is not an annotation
                ]  # fmt: skip
                final = next(
                    (
                        r.edited_answer if r.action == "edited" else r.draft
                        for r in reversed(question_rounds)
                        if r.action != "rejected"
                    ),
                    "",
                )
                ama.append(
                    exports.AMARecord(
                        record_id=a.id, image=image_ref(task.image_id), question=payload["question"],
                        rounds=question_rounds, final_answer=final, annotator=who, created_at=_iso(a.created_at),
                    )
                )  # fmt: skip
            elif a.kind == "verify":
                row = json.loads(task.payload).get("count_row", {})
                verification.append(
                    exports.CountVerificationRecord(
                        record_id=a.id, example_id=row.get("example_id", ""), image=image_ref(task.image_id),
                        verdict=payload["verdict"], count=payload["count"],
                        points=[exports.Point(**p) for p in payload["points"]], annotator=who,
                        created_at=_iso(a.created_at),
                    )
                )  # fmt: skip
        counts = {
            exports.CAP_MANIFEST: exports.write_jsonl(os.path.join(staging, exports.CAP_MANIFEST), cap.values()),
            exports.POINTS: exports.write_jsonl(os.path.join(staging, exports.POINTS), points),
            exports.AMA: exports.write_jsonl(os.path.join(staging, exports.AMA), ama),
            exports.COUNT_VERIFICATION: exports.write_jsonl(
                os.path.join(staging, exports.COUNT_VERIFICATION), verification
            ),
        }
        info = {"exported_at": _iso(now()), "counts": counts, "images": len(copied), "format": "annotation/exports.py"}
        with open(os.path.join(staging, exports.EXPORT_INFO), "w", encoding="utf-8") as handle:
            json.dump(info, handle, indent=1)
        if os.path.exists(out_dir):  # replace a previous export whole
            old = f"{out_dir}.old-{os.getpid()}"
            os.rename(out_dir, old)
            os.rename(staging, out_dir)
            shutil.rmtree(old)
        else:
            os.rename(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {"export_dir": out_dir, "counts": counts}
