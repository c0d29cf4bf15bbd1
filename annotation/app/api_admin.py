"""Admin API: users, images, task batches, Count verification tasks, progress, export."""

import json
import os
import secrets
from collections import Counter, defaultdict
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy import select
from starlette.datastructures import UploadFile  # what request.form() returns (fastapi.UploadFile subclasses it)

from annotation.app.api_auth import create_user
from annotation.app.db import transaction
from annotation.app.export import export_all
from annotation.app.models import Annotation, Batch, StoredImage, Task, User
from annotation.app.security import now
from annotation.app.state import ApiError, AppState, admin_user, state
from annotation.app.storage import BadUpload, display_name

router = APIRouter(dependencies=[Depends(admin_user)])
TASK_TYPES = ("cap", "points", "ama", "verify")


class NewUser(BaseModel):
    username: str
    password: str
    role: str = "annotator"


class NewBatch(BaseModel):
    task_type: str
    image_ids: list[str]
    annotators: list[str]
    name: str = ""


class ExportRequest(BaseModel):
    out_dir: str | None = None


async def read_capped(upload: UploadFile, cap: int, what: str) -> bytes:
    data = await upload.read(cap + 1)
    if len(data) > cap:
        raise ApiError(413, f"{what} {display_name(upload.filename)!r} is larger than {cap // (1024 * 1024)} MiB.")
    return data


def image_json(image: StoredImage) -> dict[str, Any]:
    return {"image_id": image.id, "filename": image.filename, "width": image.width, "height": image.height}


@router.post("/api/admin/users", status_code=201)
def add_user(body: NewUser, app: AppState = Depends(state)) -> dict[str, str]:
    user = create_user(app, body.username, body.password, body.role)
    return {"username": user.username, "role": user.role}


@router.get("/api/admin/users")
def list_users(app: AppState = Depends(state)) -> list[dict[str, str]]:
    with transaction(app.sessions) as db:
        return [{"username": u.username, "role": u.role} for u in db.scalars(select(User).order_by(User.username))]


def store_image(app: AppState, data: bytes, filename: str, caption: str = "") -> StoredImage:
    sha, extension, width, height = app.storage.save_image(data)
    with transaction(app.sessions) as db:
        image = db.get(StoredImage, sha)
        if image is None:
            image = StoredImage(
                id=sha, filename=filename, extension=extension, width=width, height=height, caption=caption,
                created_at=now(),
            )  # fmt: skip
            db.add(image)
        elif caption and not image.caption:
            image.caption = caption
    return image


@router.post("/api/admin/images")
async def upload_images(request: Request, app: AppState = Depends(state)) -> dict[str, Any]:
    """Images (multipart `files`), with optional captions (a `captions` JSON object: filename -> caption) that the
    AMA drafter reads."""
    form = await request.form()
    captions = json.loads(str(form.get("captions") or "{}"))
    added, refused = [], []
    for upload in form.getlist("files"):
        if not isinstance(upload, UploadFile):
            continue
        name = display_name(upload.filename)
        try:
            data = await read_capped(upload, app.config.max_image_bytes, "Image")
            added.append(image_json(store_image(app, data, name, str(captions.get(name, ""))[:20000])))
        except (BadUpload, ApiError) as error:
            refused.append(
                {"filename": name, "error": str(error) if isinstance(error, BadUpload) else error.detail["error"]}
            )
    if not added and not refused:
        raise ApiError(400, "No files: choose one or more images.", "files")
    return {"images": added, "rejected": refused}


@router.get("/api/admin/images")
def list_images(app: AppState = Depends(state)) -> list[dict[str, Any]]:
    with transaction(app.sessions) as db:
        return [image_json(i) for i in db.scalars(select(StoredImage).order_by(StoredImage.created_at, StoredImage.id))]


def annotators_by_name(db: Any, names: list[str]) -> list[User]:
    if not names:
        raise ApiError(400, "Choose at least one annotator.", "annotators")
    users = {u.username: u for u in db.scalars(select(User).where(User.username.in_(names)))}
    missing = [n for n in names if n not in users]
    if missing:
        raise ApiError(400, f"No such user(s): {', '.join(missing)}", "annotators")
    return [users[n] for n in names]


def add_tasks(db: Any, batch: Batch, image_ids: list[str], annotators: list[User], payloads: list[str]) -> int:
    """One task per image, assigned round-robin over the annotators."""
    for i, (image_id, payload) in enumerate(zip(image_ids, payloads, strict=True)):
        db.add(
            Task(
                id=secrets.token_hex(8), batch_id=batch.id, task_type=batch.task_type, image_id=image_id,
                annotator_id=annotators[i % len(annotators)].id, status="todo", payload=payload, created_at=now(),
            )
        )  # fmt: skip
    return len(image_ids)


@router.post("/api/admin/batches")
def create_batch(body: NewBatch, app: AppState = Depends(state)) -> dict[str, Any]:
    if body.task_type not in ("cap", "points", "ama"):
        raise ApiError(400, "task_type must be cap, points or ama (verification batches come from a task file).")
    if not body.image_ids:
        raise ApiError(400, "Choose at least one image.", "image_ids")
    with transaction(app.sessions) as db:
        annotators = annotators_by_name(db, body.annotators)
        known = set(db.scalars(select(StoredImage.id).where(StoredImage.id.in_(body.image_ids))))
        missing = [i for i in body.image_ids if i not in known]
        if missing:
            raise ApiError(400, f"Unknown image id(s): {', '.join(missing[:5])}", "image_ids")
        batch = Batch(
            id=secrets.token_hex(6),
            name=body.name.strip()[:200] or body.task_type,
            task_type=body.task_type,
            created_at=now(),
        )
        db.add(batch)
        db.flush()
        count = add_tasks(db, batch, list(dict.fromkeys(body.image_ids)), annotators, ["{}"] * len(set(body.image_ids)))
    return {"batch_id": batch.id, "tasks": count}


def _count_row(row: dict[str, Any]) -> dict[str, Any]:
    """A verification_tasks.jsonl line -> what the verify page shows (points as a list of {x, y})."""
    points = row.get("points") or {}
    if isinstance(points, dict):
        points = [{"x": float(x), "y": float(y)} for x, y in zip(points.get("x", []), points.get("y", []), strict=True)]
    return {
        "example_id": str(row["example_id"]),
        "label": str(row.get("label", "")),
        "count": int(row.get("count", len(points))),
        "points": points,
        "question": str(row.get("question", "")),
        "answer": str(row.get("answer", "")),
        "split": str(row.get("split", "")),
    }


@router.post("/api/admin/verification-tasks")
async def load_verification_tasks(request: Request, app: AppState = Depends(state)) -> dict[str, Any]:
    """Count's verification_tasks.jsonl (`file`), the images it names (uploaded as `files`, matched by sha256 or
    file name; or read from the local paths it names), and the annotators to assign (`annotators`)."""
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ApiError(400, "Choose the verification_tasks.jsonl file.", "file")
    lines = (await read_capped(upload, app.config.max_image_bytes, "Task file")).decode("utf-8", "replace")
    uploaded: dict[str, StoredImage] = {}
    for image_upload in form.getlist("files"):
        if isinstance(image_upload, UploadFile):
            data = await read_capped(image_upload, app.config.max_image_bytes, "Image")
            try:
                image = store_image(app, data, display_name(image_upload.filename))
            except BadUpload as error:
                raise ApiError(400, f"{display_name(image_upload.filename)}: {error}") from None
            uploaded[image.id] = uploaded[image.filename] = image
    names = [str(n) for n in form.getlist("annotators")]
    rows, problems = [], []
    for number, line in enumerate(lines.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            count_row = _count_row(row)
            image = uploaded.get(row.get("image_sha256", "")) or uploaded.get(
                os.path.basename(str(row.get("image_url", "")))
            )
            if image is None and os.path.isfile(str(row.get("image_url", ""))):
                with open(row["image_url"], "rb") as handle:
                    image = store_image(app, handle.read(), display_name(row["image_url"]))
            if image is None:
                raise ValueError("its image was not uploaded and is not a readable local file")
            rows.append((image.id, json.dumps({"count_row": count_row})))
        except (ValueError, KeyError, TypeError, BadUpload) as error:
            problems.append(f"line {number}: {error}")
    if problems:
        raise ApiError(400, "Nothing loaded: " + "; ".join(problems[:5]), "file")
    if not rows:
        raise ApiError(400, "The task file has no rows.", "file")
    with transaction(app.sessions) as db:
        annotators = annotators_by_name(db, names)
        batch = Batch(
            id=secrets.token_hex(6),
            name=f"verify {display_name(upload.filename)}",
            task_type="verify",
            created_at=now(),
        )
        db.add(batch)
        db.flush()
        count = add_tasks(db, batch, [r[0] for r in rows], annotators, [r[1] for r in rows])
    return {"batch_id": batch.id, "tasks": count}


@router.get("/api/admin/progress")
def progress(app: AppState = Depends(state)) -> dict[str, Any]:
    with transaction(app.sessions) as db:
        batches = {b.id: b for b in db.scalars(select(Batch))}
        users = {u.id: u.username for u in db.scalars(select(User))}
        tasks = list(db.scalars(select(Task)))
        saved = Counter(
            (task_id, kind)
            for task_id, kind in db.execute(
                select(Annotation.task_id, Annotation.kind).where(
                    Annotation.deleted.is_(False), Annotation.superseded.is_(False)
                )
            )
        )
    per_batch: dict[str, dict[str, Any]] = {}
    per_annotator: dict[str, Counter] = defaultdict(Counter)
    for task in tasks:
        batch = batches[task.batch_id]
        entry = per_batch.setdefault(
            batch.id, {"batch": batch.name, "type": batch.task_type, "tasks": 0, "done": 0, "annotations": 0}
        )
        entry["tasks"] += 1
        entry["done"] += task.status == "done"
        entry["annotations"] += sum(n for (tid, _), n in saved.items() if tid == task.id)
        who = per_annotator[users.get(task.annotator_id, "?")]
        who["tasks"] += 1
        who["done"] += task.status == "done"
    return {
        "batches": sorted(per_batch.values(), key=lambda b: b["batch"]),
        "annotators": [{"annotator": name, **counts} for name, counts in sorted(per_annotator.items())],
    }


@router.post("/api/admin/export")
def export(body: ExportRequest, app: AppState = Depends(state)) -> dict[str, Any]:
    out_dir = body.out_dir or os.path.join(app.config.data_dir, "exports", now().strftime("%Y%m%dT%H%M%S"))
    try:
        return export_all(app, os.path.abspath(out_dir))
    except OSError as error:
        raise ApiError(400, f"Cannot write the export to {out_dir}: {error}", "out_dir") from None
