"""Admin API: users, images, task batches, Count verification tasks, progress, export."""

import csv
import io
import json
import os
import secrets
from collections import Counter, defaultdict
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile  # what request.form() returns (fastapi.UploadFile subclasses it)

from annotation.app.api_auth import create_user
from annotation.app.db import transaction
from annotation.app.export import export_all
from annotation.app.limits import size_text
from annotation.app.models import Annotation, Batch, StoredImage, Task, User
from annotation.app.security import now
from annotation.app.state import ApiError, AppState, admin_user, state
from annotation.app.storage import BadUpload, display_name

router = APIRouter(dependencies=[Depends(admin_user)])
TASK_TYPES = ("cap", "points", "ama", "verify")
MAX_CAPTION_CHARS = 20000


class NewUser(BaseModel):
    username: str
    password: str
    role: str = "annotator"


class NewBatch(BaseModel):
    task_type: str
    image_ids: list[str]
    annotators: list[str]
    name: str = ""
    annotators_per_image: int = 1  # PixMo collects several people's work per image for some subsets


class ExportRequest(BaseModel):
    out_dir: str | None = None


async def read_capped(upload: UploadFile, cap: int, what: str) -> bytes:
    data = await upload.read(cap + 1)
    if len(data) > cap:
        raise ApiError(413, f"{what} {display_name(upload.filename)!r} is too large: at most {size_text(cap)}.")
    return data


def image_json(image: StoredImage) -> dict[str, Any]:
    return {
        "image_id": image.id, "filename": image.filename, "width": image.width, "height": image.height,
        "caption": image.caption,
    }  # fmt: skip


@router.post("/api/admin/users", status_code=201)
def add_user(body: NewUser, app: AppState = Depends(state)) -> dict[str, str]:
    user = create_user(app, body.username, body.password, body.role)
    return {"username": user.username, "role": user.role}


@router.get("/api/admin/users")
def list_users(app: AppState = Depends(state)) -> list[dict[str, str]]:
    with transaction(app.readers) as db:
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


def parse_captions(text: str) -> dict[str, str]:
    """Captions for the AMA drafter, by image file name: a JSON object {"bus.jpg": "A red bus ..."}, a JSON list of
    {"filename", "caption"} objects, or CSV with the columns filename,caption."""
    text = text.strip().lstrip("\ufeff")
    if not text:
        return {}
    if text[0] in "{[":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ApiError(400, f"The captions are not valid JSON: {error}", "captions") from None
        if isinstance(data, list):
            try:
                data = {str(item["filename"]): item["caption"] for item in data}
            except (TypeError, KeyError):
                raise ApiError(400, 'A captions list holds {"filename", "caption"} objects.', "captions") from None
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
        if rows and not {"filename", "caption"} <= set(rows[0]):
            raise ApiError(400, "A captions CSV needs the columns filename and caption.", "captions")
        data = {row["filename"]: row["caption"] for row in rows}
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ApiError(400, "Captions map file names to caption text.", "captions")
    return {display_name(name): caption.strip()[:MAX_CAPTION_CHARS] for name, caption in data.items()}


async def form_text(form: Any, name: str, cap: int) -> str:
    """A form field given as text or as an uploaded file."""
    value = form.get(name)
    if isinstance(value, UploadFile):
        return (await read_capped(value, cap, "File")).decode("utf-8", "replace")
    return str(value or "")


@router.post("/api/admin/images")
async def upload_images(request: Request, app: AppState = Depends(state)) -> dict[str, Any]:
    """Images (multipart `files`), with optional captions the AMA drafter reads (`captions`: text or a file, see
    parse_captions). An image uploaded again keeps its first caption unless it had none."""
    form = await request.form()
    captions = parse_captions(await form_text(form, "captions", app.config.max_image_bytes))
    added, refused = [], []
    for upload in form.getlist("files"):
        if not isinstance(upload, UploadFile):
            continue
        name = display_name(upload.filename)
        try:
            data = await read_capped(upload, app.config.max_image_bytes, "Image")
            stored = await run_in_threadpool(store_image, app, data, name, captions.get(name, ""))  # decoding blocks
            added.append(image_json(stored))
        except (BadUpload, ApiError) as error:
            refused.append(
                {"filename": name, "error": str(error) if isinstance(error, BadUpload) else error.detail["error"]}
            )
    if not added and not refused:
        raise ApiError(400, "No files: choose one or more images.", "files")
    return {"images": added, "rejected": refused}


@router.get("/api/admin/images")
def list_images(app: AppState = Depends(state)) -> list[dict[str, Any]]:
    with transaction(app.readers) as db:
        return [image_json(i) for i in db.scalars(select(StoredImage).order_by(StoredImage.created_at, StoredImage.id))]


def annotators_by_name(db: Any, names: list[str]) -> list[User]:
    if not names:
        raise ApiError(400, "Choose at least one annotator.", "annotators")
    names = list(dict.fromkeys(names))  # a name given twice is still one person
    users = {u.username: u for u in db.scalars(select(User).where(User.username.in_(names)))}
    missing = [n for n in names if n not in users]
    if missing:
        raise ApiError(400, f"No such user(s): {', '.join(missing)}", "annotators")
    return [users[n] for n in names]


def add_tasks(
    db: Any, batch: Batch, image_ids: list[str], annotators: list[User], payloads: list[str], per_image: int = 1
) -> int:
    """`per_image` tasks per image, each for a different annotator, dealt out round-robin: with 1, the images are
    shared out among the annotators; with every annotator, each of them gets every image."""
    if not 1 <= per_image <= len(annotators):
        raise ApiError(
            400, f"Annotators per image must be 1-{len(annotators)} (the number of annotators chosen).",
            "annotators_per_image",
        )  # fmt: skip
    turn = 0
    for image_id, payload in zip(image_ids, payloads, strict=True):
        for _ in range(per_image):  # consecutive turns: per_image different people for this image
            db.add(
                Task(
                    id=secrets.token_hex(8), batch_id=batch.id, task_type=batch.task_type, image_id=image_id,
                    annotator_id=annotators[turn % len(annotators)].id, status="todo", payload=payload,
                    created_at=now(),
                )
            )  # fmt: skip
            turn += 1
    return turn


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
        images = list(dict.fromkeys(body.image_ids))
        count = add_tasks(db, batch, images, annotators, ["{}"] * len(images), body.annotators_per_image)
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
    file name; images already in the app, by sha256; or read from the local paths it names), and the annotators
    to assign (`annotators`, repeated or comma-separated)."""
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ApiError(400, "Choose the verification_tasks.jsonl file.", "file")
    lines = (await read_capped(upload, app.config.max_image_bytes, "Task file")).decode("utf-8", "replace")
    images = [
        (display_name(image.filename), await read_capped(image, app.config.max_image_bytes, "Image"))
        for image in form.getlist("files")
        if isinstance(image, UploadFile)
    ]
    names = [name.strip() for value in form.getlist("annotators") for name in str(value).split(",") if name.strip()]
    # Decoding images and writing the database block: off the event loop.
    return await run_in_threadpool(verification_batch, app, display_name(upload.filename), lines, images, names)


def verification_batch(
    app: AppState, task_file: str, lines: str, images: list[tuple[str, bytes]], names: list[str]
) -> dict[str, Any]:
    uploaded: dict[str, StoredImage] = {}
    for filename, data in images:
        try:
            image = store_image(app, data, filename)
        except BadUpload as error:
            raise ApiError(400, f"{filename}: {error}", "files") from None
        uploaded[image.id] = uploaded[image.filename] = image
    rows, problems = [], []
    for number, line in enumerate(lines.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            count_row = _count_row(row)
            sha = str(row.get("image_sha256") or "")
            image = uploaded.get(sha) or uploaded.get(os.path.basename(str(row.get("image_url", ""))))
            if image is None and sha:  # loaded before (an earlier upload of the same bytes)
                with transaction(app.readers) as db:
                    image = db.get(StoredImage, sha)
            if image is None and os.path.isfile(str(row.get("image_url", ""))):
                with open(row["image_url"], "rb") as handle:
                    image = store_image(app, handle.read(), display_name(row["image_url"]))
            if image is None:
                raise ValueError("its image was not uploaded and is not a readable local file")
            rows.append((image.id, json.dumps({"count_row": count_row})))
        except (ValueError, KeyError, TypeError, AttributeError, BadUpload) as error:
            problems.append(f"line {number}: {error}")
    if problems:
        raise ApiError(400, "Nothing loaded: " + "; ".join(problems[:5]), "file")
    if not rows:
        raise ApiError(400, "The task file has no rows.", "file")
    with transaction(app.sessions) as db:
        annotators = annotators_by_name(db, names)
        batch = Batch(id=secrets.token_hex(6), name=f"verify {task_file}", task_type="verify", created_at=now())
        db.add(batch)
        db.flush()
        count = add_tasks(db, batch, [r[0] for r in rows], annotators, [r[1] for r in rows])
    return {"batch_id": batch.id, "tasks": count}


@router.get("/api/admin/progress")
def progress(app: AppState = Depends(state)) -> dict[str, Any]:
    """Per batch and per annotator: tasks and tasks done, and the live annotations (not deleted or superseded)
    in total and by kind (points, recording, ama_question, verify)."""
    with transaction(app.readers) as db:
        batches = {b.id: b for b in db.scalars(select(Batch))}
        users = {u.id: u.username for u in db.scalars(select(User))}
        tasks = list(db.scalars(select(Task)))
        live = db.execute(
            select(Annotation.task_id, Annotation.kind).where(
                Annotation.deleted.is_(False), Annotation.superseded.is_(False)
            )
        ).all()
    kinds_by_task: dict[str, Counter] = defaultdict(Counter)
    for task_id, kind in live:
        kinds_by_task[task_id][kind] += 1
    per_batch: dict[str, dict[str, Any]] = {}
    per_annotator: dict[str, dict[str, Any]] = {}
    for task in tasks:
        batch = batches[task.batch_id]
        kinds = kinds_by_task.get(task.id, Counter())
        entries = (
            per_batch.setdefault(batch.id, {"batch": batch.name, "batch_id": batch.id, "type": batch.task_type}),
            per_annotator.setdefault(task.annotator_id, {"annotator": users.get(task.annotator_id, "?")}),
        )
        for entry in entries:
            entry["tasks"] = entry.get("tasks", 0) + 1
            entry["done"] = entry.get("done", 0) + (task.status == "done")
            entry["annotations"] = entry.get("annotations", 0) + sum(kinds.values())
            entry.setdefault("by_type", Counter()).update(kinds)
    for entry in [*per_batch.values(), *per_annotator.values()]:
        entry["by_type"] = dict(sorted(entry["by_type"].items()))
    return {
        "batches": sorted(per_batch.values(), key=lambda b: (b["batch"], b["batch_id"])),
        "annotators": sorted(per_annotator.values(), key=lambda a: a["annotator"]),
    }


@router.post("/api/admin/export")
def export(body: ExportRequest, app: AppState = Depends(state)) -> dict[str, Any]:
    out_dir = body.out_dir or os.path.join(app.config.data_dir, "exports", now().strftime("%Y%m%dT%H%M%S"))
    try:
        return export_all(app, os.path.abspath(out_dir))
    except OSError as error:
        raise ApiError(400, f"Cannot write the export to {out_dir}: {error}", "out_dir") from None
