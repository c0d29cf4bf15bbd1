"""Annotator API: my tasks, a task's detail, its image, and saving work (points, recordings, AMA, verification).

Every create carries a client-made id: a retried request finds what the first one stored (200, nothing new); the
same id with other content is a conflict (409). Writes are single transactions.
"""

import hashlib
import json
import re
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile  # what request.form() returns (fastapi.UploadFile subclasses it)

from annotation.app.db import transaction
from annotation.app.limits import size_text
from annotation.app.models import AMARound, Annotation, Batch, StoredImage, Task
from annotation.app.security import now
from annotation.app.state import ApiError, AppState, CurrentUser, current_user, state
from annotation.app.storage import AUDIO_MIME, AudioIdTaken, BadUpload

router = APIRouter()
ID_PATTERN = r"[A-Za-z0-9_-]{1,64}"
ANNOTATION_KINDS = ("points", "recording", "ama_question", "verify")
ANNOTATION_PAGE, MAX_ANNOTATION_PAGE = 20, 100


class PointIn(BaseModel):
    x: float
    y: float


class PointsIn(BaseModel):
    annotation_id: str
    label: str
    points: list[PointIn] = []
    not_present: bool = False
    explanation: str = ""


class DraftIn(BaseModel):
    question_id: str
    question: str


class ReviewIn(BaseModel):
    question_id: str
    round: int
    action: str
    reason: str = ""
    edited_answer: str = ""


class VerifyIn(BaseModel):
    annotation_id: str
    verdict: str
    count: int
    points: list[PointIn] = []


def own_task(db: Any, task_id: str, user: CurrentUser) -> Task:
    """The task, if it is this annotator's (admins see all); 404 otherwise, so ids of others' tasks leak nothing."""
    task = db.get(Task, task_id)
    if task is None or (user.role != "admin" and task.annotator_id != user.id):
        raise ApiError(404, "No such task.")
    return task


def check_id(value: str, field: str) -> str:
    if not re.fullmatch(ID_PATTERN, value or ""):
        raise ApiError(400, f"{field} must be 1-64 letters, digits, '-' or '_'.", field)
    return value


def check_text(value: str, field: str, limit: int, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ApiError(400, f"{field.replace('_', ' ').capitalize()} is empty.", field)
    if len(text) > limit:
        raise ApiError(400, f"{field.replace('_', ' ').capitalize()} is longer than {limit} characters.", field)
    return text


def check_points(points: list[PointIn], field: str = "points") -> list[dict[str, float]]:
    for p in points:
        if not (0 <= p.x <= 100 and 0 <= p.y <= 100):
            raise ApiError(400, f"A point ({p.x:g}, {p.y:g}) is outside the image (0-100 %).", field)
    if len(points) > 500:
        raise ApiError(400, "More than 500 points.", field)
    return [{"x": round(p.x, 3), "y": round(p.y, 3)} for p in points]


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def save_once(app: AppState, task_id: str, user: CurrentUser, annotation_id: str, kind: str, content: dict) -> dict:
    """Insert an annotation under the client's id, or return the stored one when this is a retry."""
    digest = content_hash(content)
    try:
        with transaction(app.sessions) as db:
            task = own_task(db, task_id, user)
            existing = db.get(Annotation, annotation_id)
            if existing is None:
                if task.status == "done":  # checked after the retry lookup: a late retry still gets its 200
                    raise ApiError(409, "This task is finished; saved work can no longer change.")
                db.add(
                    Annotation(
                        id=annotation_id, task_id=task_id, kind=kind, payload=json.dumps(content),
                        content_hash=digest, created_at=now(),
                    )
                )  # fmt: skip
                return {"annotation_id": annotation_id, **content}
    except IntegrityError:  # the same id raced in from a parallel retry
        pass
    with transaction(app.sessions) as db:
        existing = db.get(Annotation, annotation_id)
        if existing is None or existing.task_id != task_id or existing.content_hash != digest:
            raise ApiError(409, "This annotation id was already used for different content.")
        return {"annotation_id": annotation_id, **json.loads(existing.payload)}


@router.get("/api/tasks")
def my_tasks(user: CurrentUser = Depends(current_user), app: AppState = Depends(state)) -> list[dict[str, Any]]:
    with transaction(app.readers) as db:
        rows = db.execute(
            select(Task, Batch.name)
            .join(Batch, Batch.id == Task.batch_id)
            .where(Task.annotator_id == user.id)
            .order_by(Task.created_at, Task.id)
        ).all()
        return [
            {"task_id": t.id, "task_type": t.task_type, "image_id": t.image_id, "status": t.status, "batch": name}
            for t, name in rows
        ]


def annotation_json(db: Any, a: Annotation) -> dict[str, Any]:
    item = {"annotation_id": a.id, "kind": a.kind, "superseded": a.superseded, **json.loads(a.payload)}
    if a.kind == "ama_question":
        rounds = db.scalars(select(AMARound).where(AMARound.question_id == a.id).order_by(AMARound.round))
        item["question_id"] = a.id
        item["rounds"] = [
            {
                "round": r.round,
                "draft": r.draft,
                "action": r.action,
                "reason": r.reason,
                "edited_answer": r.edited_answer,
            }
            for r in rounds
        ]
    return item


def live_annotations(task: Task, kind: str = "") -> Any:
    """The task's annotations that are not deleted (of one kind, if given), oldest first."""
    query = select(Annotation).where(Annotation.task_id == task.id, Annotation.deleted.is_(False))
    return query.where(Annotation.kind == kind) if kind else query


def annotations_of(db: Any, task: Task) -> list[dict[str, Any]]:
    query = live_annotations(task).order_by(Annotation.created_at, Annotation.id)
    return [annotation_json(db, a) for a in db.scalars(query)]


@router.get("/api/tasks/{task_id}")
def task_detail(
    task_id: str, user: CurrentUser = Depends(current_user), app: AppState = Depends(state)
) -> dict[str, Any]:
    with transaction(app.readers) as db:
        task = own_task(db, task_id, user)
        image = db.get(StoredImage, task.image_id)
        detail = {
            "task_id": task.id,
            "task_type": task.task_type,
            "status": task.status,
            "image": {"url": f"/api/images/{image.id}", "width": image.width, "height": image.height},
            "caption": image.caption,
            "recording_window_s": list(app.config.recording_window_s),
            "annotations": annotations_of(db, task),
        }
        payload = json.loads(task.payload)
        if "count_row" in payload:
            detail["count_row"] = payload["count_row"]
        return detail


@router.get("/api/tasks/{task_id}/annotations")
def task_annotations(
    task_id: str,
    kind: str = "",
    offset: int = Query(0, ge=0),
    limit: int = Query(ANNOTATION_PAGE, ge=1, le=MAX_ANNOTATION_PAGE),
    user: CurrentUser = Depends(current_user),
    app: AppState = Depends(state),
) -> dict[str, Any]:
    """One page of the task's saved work, oldest first, and how much there is in all (the Points page lists its
    expressions a page at a time: a long list would make the page thousands of pixels tall)."""
    if kind and kind not in ANNOTATION_KINDS:
        raise ApiError(400, f"kind must be one of {', '.join(ANNOTATION_KINDS)}.", "kind")
    with transaction(app.readers) as db:
        query = live_annotations(own_task(db, task_id, user), kind)
        total = db.scalar(select(func.count()).select_from(query.subquery()))
        page = db.scalars(query.order_by(Annotation.created_at, Annotation.id).offset(offset).limit(limit))
        return {
            "total": total, "offset": offset, "limit": limit, "annotations": [annotation_json(db, a) for a in page],
        }  # fmt: skip


@router.get("/api/images/{image_id}")
def image_file(
    image_id: str, user: CurrentUser = Depends(current_user), app: AppState = Depends(state)
) -> FileResponse:
    with transaction(app.readers) as db:
        image = db.get(StoredImage, image_id)
        allowed = image is not None and (
            user.role == "admin"
            or db.scalar(
                select(func.count()).select_from(Task).where(Task.image_id == image_id, Task.annotator_id == user.id)
            )
        )
    if not allowed:
        raise ApiError(404, "No such image.")
    return FileResponse(
        app.storage.image_path(image.id, image.extension), headers={"Cache-Control": "private, max-age=3600"}
    )


@router.post("/api/tasks/{task_id}/points")
def save_points(
    task_id: str, body: PointsIn, user: CurrentUser = Depends(current_user), app: AppState = Depends(state)
) -> dict:
    limit = app.config.max_text_chars
    content = {
        "label": check_text(body.label, "label", limit),
        "points": check_points(body.points),
        "not_present": body.not_present,
        "explanation": check_text(body.explanation, "explanation", limit, required=False),
    }
    if body.not_present and content["points"]:
        raise ApiError(400, "A 'not present' expression has no points.", "points")
    if not body.not_present and not content["points"]:
        raise ApiError(400, "Click every instance, or mark the expression as not present.", "points")
    return save_once(app, task_id, user, check_id(body.annotation_id, "annotation_id"), "points", content)


@router.post("/api/tasks/{task_id}/recordings")
async def save_recording(
    task_id: str, request: Request, user: CurrentUser = Depends(current_user), app: AppState = Depends(state)
) -> dict[str, Any]:
    form = await request.form()
    annotation_id = check_id(str(form.get("annotation_id") or ""), "annotation_id")
    upload = form.get("audio")
    if not isinstance(upload, UploadFile):
        raise ApiError(400, "No audio file in the upload.", "audio")
    data = await upload.read(app.config.max_audio_bytes + 1)
    if len(data) > app.config.max_audio_bytes:
        raise ApiError(413, f"The recording is too large: at most {size_text(app.config.max_audio_bytes)}.", "audio")
    # Probing (ffprobe, maybe a full decode) and the database wait on other processes: off the event loop.
    return await run_in_threadpool(store_recording, app, task_id, user, annotation_id, data)


def stored_recording(app: AppState, task_id: str, annotation_id: str, digest: str) -> dict[str, Any] | None:
    """What an earlier upload under this id stored (a retry), None if there was none; 409 if it was other audio."""
    with transaction(app.readers) as db:
        existing = db.get(Annotation, annotation_id)
        if existing is None:
            return None
        if existing.task_id != task_id or existing.kind != "recording" or existing.content_hash != digest:
            raise ApiError(409, "This annotation id was already used for a different recording.", "annotation_id")
        return {"annotation_id": annotation_id, **json.loads(existing.payload)}


def store_recording(app: AppState, task_id: str, user: CurrentUser, annotation_id: str, data: bytes) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    with transaction(app.readers) as db:
        done = own_task(db, task_id, user).status == "done"
    earlier = stored_recording(app, task_id, annotation_id, digest)
    if earlier is not None:  # a retry: what the first upload stored
        return earlier
    if done:
        raise ApiError(409, "This task is finished; saved work can no longer change.")
    try:
        extension, seconds = app.storage.save_audio(annotation_id, data)
    except AudioIdTaken:
        raise ApiError(409, "This annotation id was already used for a different recording.", "annotation_id") from None
    except BadUpload as error:
        raise ApiError(400, str(error), "audio") from None
    low, high = app.config.recording_window_s
    tolerance = app.config.recording_tolerance_s
    if not low - tolerance <= seconds <= high + tolerance:
        app.storage.remove_audio(annotation_id, extension)
        raise ApiError(400, f"The recording is {seconds:.1f} s; descriptions must be {low:g}-{high:g} s long.", "audio")
    content = {"seconds": round(seconds, 2), "extension": extension}
    try:
        with transaction(app.sessions) as db:
            task = own_task(db, task_id, user)
            if task.status == "done":
                raise ApiError(409, "This task is finished; saved work can no longer change.")
            # A new recording supersedes the earlier ones of this task (they stay on disk and in the database).
            for older in db.scalars(
                select(Annotation).where(Annotation.task_id == task_id, Annotation.kind == "recording")
            ):
                older.superseded = True
            db.add(
                Annotation(
                    id=annotation_id, task_id=task_id, kind="recording", payload=json.dumps(content),
                    content_hash=digest, created_at=now(),
                )
            )  # fmt: skip
    except IntegrityError:  # the same upload raced in from a parallel retry
        earlier = stored_recording(app, task_id, annotation_id, digest)
        if earlier is None:
            raise
        return earlier
    return {"annotation_id": annotation_id, **content}


@router.delete("/api/tasks/{task_id}/recordings/{annotation_id}")
def delete_recording(
    task_id: str, annotation_id: str, user: CurrentUser = Depends(current_user), app: AppState = Depends(state)
) -> dict:
    with transaction(app.sessions) as db:
        own_task(db, task_id, user)
        recording = db.get(Annotation, annotation_id)
        if recording is None or recording.task_id != task_id or recording.kind != "recording":
            raise ApiError(404, "No such recording.")
        recording.deleted = True  # kept on disk and in the database: nothing is ever lost, only hidden
    return {"annotation_id": annotation_id, "deleted": True}


@router.get("/api/recordings/{annotation_id}")
def recording_file(
    annotation_id: str, user: CurrentUser = Depends(current_user), app: AppState = Depends(state)
) -> FileResponse:
    with transaction(app.readers) as db:
        recording = db.get(Annotation, annotation_id)
        if recording is None or recording.kind != "recording":
            raise ApiError(404, "No such recording.")
        own_task(db, recording.task_id, user)
        extension = json.loads(recording.payload)["extension"]
    return FileResponse(
        app.storage.audio_path(annotation_id, extension),
        media_type=AUDIO_MIME.get(extension, "application/octet-stream"),
    )


@router.post("/api/tasks/{task_id}/ama/draft")
def draft_answer(
    task_id: str, body: DraftIn, user: CurrentUser = Depends(current_user), app: AppState = Depends(state)
) -> dict:
    question_id = check_id(body.question_id, "question_id")
    question = check_text(body.question, "question", app.config.max_text_chars)
    save_once(app, task_id, user, question_id, "ama_question", {"question": question})
    with transaction(app.sessions) as db:
        rounds = list(db.scalars(select(AMARound).where(AMARound.question_id == question_id).order_by(AMARound.round)))
        if rounds and not rounds[-1].action:  # a retry, or a draft not reviewed yet: the same draft again
            return {"question_id": question_id, "round": rounds[-1].round, "draft": rounds[-1].draft}
        if rounds and rounds[-1].action in ("accepted", "edited"):
            raise ApiError(409, "This question already has an answer.")
        task = own_task(db, task_id, user)
        image = db.get(StoredImage, task.image_id)
        image_path, caption, next_round = (
            app.storage.image_path(image.id, image.extension),
            image.caption,
            len(rounds) + 1,
        )
    from annotation.ama.drafting import DraftError

    with open(image_path, "rb") as handle:
        image_bytes = handle.read()
    try:
        draft = app.drafter().draft(image_bytes, question, caption, seed=next_round)
    except DraftError as error:
        raise ApiError(502, f"No draft this time: {error}. Try again, or write the answer yourself.") from None
    try:
        with transaction(app.sessions) as db:
            db.add(
                AMARound(
                    question_id=question_id, round=next_round, draft=draft.answer, model=draft.model,
                    prompt_version=draft.prompt_version, ocr_text=draft.ocr_text, drafted_at=now(),
                )
            )  # fmt: skip
    except IntegrityError:  # a parallel retry stored this round first
        with transaction(app.sessions) as db:
            stored = db.get(AMARound, (question_id, next_round))
            return {"question_id": question_id, "round": next_round, "draft": stored.draft}
    return {"question_id": question_id, "round": next_round, "draft": draft.answer}


@router.post("/api/tasks/{task_id}/ama/review")
def review_draft(
    task_id: str, body: ReviewIn, user: CurrentUser = Depends(current_user), app: AppState = Depends(state)
) -> dict:
    if body.action not in ("accepted", "rejected", "edited"):
        raise ApiError(400, "action must be accepted, rejected or edited.", "action")
    limit = app.config.max_text_chars
    reason = check_text(body.reason, "reason", limit, required=body.action == "rejected")
    edited = check_text(body.edited_answer, "edited_answer", limit, required=body.action == "edited")
    with transaction(app.sessions) as db:
        task = own_task(db, task_id, user)
        question = db.get(Annotation, body.question_id)
        stored = db.get(AMARound, (body.question_id, body.round))
        if question is None or question.task_id != task_id or stored is None:
            raise ApiError(404, "No such draft.")
        if not stored.action and task.status == "done":
            raise ApiError(409, "This task is finished; saved work can no longer change.")
        if stored.action:  # reviewed before: a retry of the same review is fine, a different one is not
            if (stored.action, stored.reason, stored.edited_answer) != (body.action, reason, edited):
                raise ApiError(409, "This draft was already reviewed differently.")
        else:
            stored.action, stored.reason, stored.edited_answer, stored.reviewed_at = body.action, reason, edited, now()
    return {"question_id": body.question_id, "round": body.round, "action": body.action}


@router.post("/api/tasks/{task_id}/verify")
def verify(
    task_id: str, body: VerifyIn, user: CurrentUser = Depends(current_user), app: AppState = Depends(state)
) -> dict:
    if body.verdict not in ("correct", "fixed"):
        raise ApiError(400, "verdict must be correct or fixed.", "verdict")
    points = check_points(body.points)
    if body.count != len(points):
        raise ApiError(400, f"The count ({body.count}) must equal the number of points ({len(points)}).", "count")
    content = {"verdict": body.verdict, "count": body.count, "points": points}
    return save_once(app, task_id, user, check_id(body.annotation_id, "annotation_id"), "verify", content)


@router.post("/api/tasks/{task_id}/complete")
def complete(task_id: str, user: CurrentUser = Depends(current_user), app: AppState = Depends(state)) -> dict:
    with transaction(app.sessions) as db:
        task = own_task(db, task_id, user)
        task.status = "done"
    return {"task_id": task_id, "status": "done"}
