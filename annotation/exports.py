"""The files the annotation app exports and the pipelines read: one contract, one module.

An export is a folder:

    EXPORT/
      export.json                  what was exported, when, counts per file, app version
      images/<sha256>.<ext>        every image a record refers to (the app's own copy)
      audio/<recording_id>.<ext>   Cap recordings as uploaded (webm/ogg/wav/...)
      cap_manifest.jsonl           CapRecord per image: its recordings (the Cap pipeline's --input)
      points.jsonl                 PointsRecord per (image, referring expression)
      ama.jsonl                    AMARecord per question, with every draft/review round
      count_verification.jsonl     CountVerificationRecord per verified Count row

Paths inside records are relative to the export folder (or absolute paths / URLs for inputs made elsewhere).
Every record carries a stable `record_id` (the client-generated annotation id) so re-exports are idempotent
and pipelines can key rows deterministically.
"""

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

EXPORT_INFO = "export.json"
CAP_MANIFEST = "cap_manifest.jsonl"
POINTS = "points.jsonl"
AMA = "ama.jsonl"
COUNT_VERIFICATION = "count_verification.jsonl"

AMA_ACTIONS = ("accepted", "rejected", "edited")


@dataclass
class CapRecord:
    """One image and the spoken descriptions recorded for it (also the Cap manifest format)."""

    record_id: str
    image: str  # path (relative to the manifest's folder, absolute, gs://) or http(s) URL
    audio: list[str]  # one or more recordings of this image, any format ffmpeg reads
    image_url: str = ""  # the public URL to publish, when the image has one
    reference_texts: list[str] = field(default_factory=list)  # what was said, when known (for WER), per audio
    annotators: list[str] = field(default_factory=list)


@dataclass
class Point:
    """A click, in percent of the image's width and height (0-100), as pixmo-points stores points."""

    x: float
    y: float


@dataclass
class PointsRecord:
    """One referring expression on one image: a click on every instance, or none when not present."""

    record_id: str
    image: str
    label: str  # the referring expression
    points: list[Point]
    not_present: bool  # the annotator said the expression matches nothing (points is then empty)
    image_url: str = ""
    explanation: str = ""  # optional: why these points (pixmo-point-explanations)
    annotator: str = ""
    created_at: str = ""  # ISO 8601 UTC


@dataclass
class AMARound:
    """One draft and what the annotator did with it."""

    draft: str  # the model's draft answer shown to the annotator
    action: str  # one of AMA_ACTIONS
    reason: str = ""  # why it was rejected
    edited_answer: str = ""  # the annotator's answer when action == "edited"
    model: str = ""  # the LLM id that drafted it
    prompt_version: str = ""  # the drafting prompt's version
    ocr_text: str = ""  # OCR text given to the LLM
    at: str = ""  # ISO 8601 UTC


@dataclass
class AMARecord:
    """One question on one image and its review rounds; the final answer is the accepted or edited one."""

    record_id: str
    image: str
    question: str
    rounds: list[AMARound]
    final_answer: str  # empty when the annotator never accepted or edited an answer
    image_url: str = ""
    annotator: str = ""
    created_at: str = ""


@dataclass
class CountVerificationRecord:
    """A person's verdict on one Count val/test row (from the Count pipeline's verification task list)."""

    record_id: str
    example_id: str  # the Count row verified
    image: str
    verdict: str  # "correct" or "fixed"
    count: int  # the verified count
    points: list[Point] = field(default_factory=list)  # the verified points
    annotator: str = ""
    created_at: str = ""


Record = TypeVar("Record", CapRecord, PointsRecord, AMARecord, CountVerificationRecord)


def to_json(record: Any) -> str:
    return json.dumps(asdict(record), ensure_ascii=False, sort_keys=True)


def from_dict(cls: type[Record], data: dict[str, Any]) -> Record:
    """Build a record from a JSON object; unknown keys are an error, missing optional keys take defaults."""
    names = {f.name for f in fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown keys {sorted(unknown)}")
    values = dict(data)
    if cls is PointsRecord or cls is CountVerificationRecord:
        values["points"] = [Point(**p) if isinstance(p, dict) else p for p in values.get("points", [])]
    if cls is AMARecord:
        values["rounds"] = [AMARound(**r) if isinstance(r, dict) else r for r in values.get("rounds", [])]
    return cls(**values)


def write_jsonl(path: str, records: Iterable[Any]) -> int:
    """Write records as JSON lines atomically (temp file + rename); returns how many."""
    tmp = f"{path}.tmp-{os.getpid()}"
    count = 0
    with open(tmp, "w", encoding="utf-8") as f:
        for record in records:
            f.write(to_json(record) + "\n")
            count += 1
    os.replace(tmp, path)
    return count


def read_jsonl(path: str, cls: type[Record]) -> Iterator[tuple[int, Record | ValueError]]:
    """(line number, record) per line; a bad line yields its ValueError instead of stopping the read."""
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                yield number, from_dict(cls, json.loads(line))
            except (ValueError, TypeError) as exc:
                yield number, ValueError(f"{os.path.basename(path)} line {number}: {exc}")
