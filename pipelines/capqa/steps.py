"""CapQA's steps on the record-flow skeleton: captions listed, images read, ask then answer, the conversation.

    caption Parquet files (driver: ids and captions only) ─ input shards (a Parquet row group each)
      ─ ReadCaptionImages ─ Ask (LLM: one question per focus) ─ Answer (LLM: one per kept question)
      ─ build_capqa_row (checks, conversation) ─ the source shard's split
Every input row becomes a row or a dead letter (stages: input, duplicate, llm/qa: too few pairs survived the
filters, validate); pairs dropped inside a kept conversation are counted in the row and listed in its provenance.
"""

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from annotation.capqa import PROMPTS_VERSION, answer_request, ask_requests, build_conversation, read_question
from inference.llm import LLMModelHandler, LLMResult
from pipelines.capqa.options import CapQAOptions
from pipelines.common.input_plan import InputRef, Listing
from pipelines.common.record_flow import ModelRound, Reader, Record
from pipelines.common.rejects import Rejected, rejected
from pipelines.common.stage import Stage
from schemas import capqa as capqa_schema
from schemas.common import provenance, sha256_hex

ASK, ANSWER = "Ask", "Answer"


@dataclass(frozen=True)
class CaptionRef:
    """One caption row of an input file: where it is, and what the driver read of it (never the image)."""

    path: str
    row_group: int
    row_in_group: int
    caption: str
    source_example_id: str
    image_sha256: str
    image_url: str


def list_captions(subset: str, options: CapQAOptions) -> Listing:
    """Every caption row of every input file (ids and captions only); dead letters for what cannot be read."""
    columns = options.column
    refs, rejects = [], []
    for path, _ in options.files:
        try:
            with FileSystems.open(path) as handle:
                parquet = pq.ParquetFile(handle)
                present = set(parquet.schema_arrow.names)
                missing = [columns[k] for k in ("caption", "image") if columns[k] not in present]
                if missing:
                    reason = f"missing columns {missing} (see --caption-column / --image-column)"
                    rejects.append(rejected(subset, path, "input", reason))
                    continue
                # Without an id column the id is the image's sha256: only then are the image bytes read here.
                light = [
                    columns[k] for k in ("caption", "example_id", "image_sha256", "image_url") if columns[k] in present
                ]
                if columns["example_id"] not in present and columns["image_sha256"] not in present:
                    light.append(columns["image"])
                group_rows = [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)]
                table = parquet.read(columns=light)
        except Exception as exc:  # noqa: BLE001 - an unreadable file is a dead letter, not a crash
            rejects.append(rejected(subset, path, "input", f"unreadable Parquet: {type(exc).__name__}: {exc}"))
            continue
        position = [(g, i) for g, n in enumerate(group_rows) for i in range(n)]
        for number, values in enumerate(table.to_pylist()):
            where = f"{path}#row{number + 1}"
            caption = values.get(columns["caption"])
            if not isinstance(caption, str) or not caption.strip():
                rejects.append(rejected(subset, where, "input", "empty or missing caption"))
                continue
            image = values.get(columns["image"])
            image_bytes = image.get("bytes") if isinstance(image, dict) else image
            digest = values.get(columns["image_sha256"]) or (sha256_hex(image_bytes) if image_bytes else "")
            source_id = values.get(columns["example_id"]) or digest
            if not source_id:
                rejects.append(rejected(subset, where, "input", "no image bytes"))
                continue
            group, row = position[number]
            url = values.get(columns["image_url"]) or ""
            ref = CaptionRef(path, group, row, caption.strip(), str(source_id), digest, url)
            refs.append(InputRef(f"capqa-{source_id}", where, ref, group=f"{path}#rg{group}"))
    return Listing(tuple(refs), tuple(rejects))


def duplicate_caption(subset: str, first: InputRef, other: InputRef) -> Rejected:
    reason = f"duplicate source example {first.payload.source_example_id} (kept {first.where})"
    return rejected(subset, other.where, "duplicate", reason)


def image_extension(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    return "img"


class ReadCaptionImages(Reader):
    """A shard's caption rows -> Records carrying their image bytes, each file's needed rows read once."""

    stage = "input"

    def __init__(self, subset: str, options: CapQAOptions) -> None:
        super().__init__(subset)
        self.image_column = options.column["image"]

    def read(self, refs: Sequence[InputRef]) -> Iterator[tuple[InputRef, Record | Rejected]]:
        by_file: dict[str, list[InputRef]] = {}
        for ref in refs:
            by_file.setdefault(ref.payload.path, []).append(ref)
        for path, members in sorted(by_file.items()):
            groups = sorted({ref.payload.row_group for ref in members})
            try:
                with FileSystems.open(path) as handle:
                    parquet = pq.ParquetFile(handle)
                    images = {g: parquet.read_row_group(g, columns=[self.image_column]).column(0) for g in groups}
            except Exception as exc:  # noqa: BLE001 - the file went away or broke since it was listed
                for ref in members:
                    yield ref, self.rejected(ref.where, f"unreadable Parquet: {type(exc).__name__}: {exc}")
                continue
            for ref in members:
                image = images[ref.payload.row_group][ref.payload.row_in_group].as_py()
                data = image.get("bytes") if isinstance(image, dict) else image
                if not data:
                    yield ref, self.rejected(ref.where, "no image bytes")
                else:
                    yield ref, Record(ref.key, ref.where, ref.key, (ref.payload, data))


class Ask(ModelRound):
    name = ASK
    stage = "llm"

    def __init__(self, subset: str, options: CapQAOptions, resource_hints: dict[str, str] | None = None) -> None:
        super().__init__(subset, resource_hints)
        self.options = options

    def handler(self) -> LLMModelHandler:
        return LLMModelHandler(self.options.llm)

    def requests(self, record: Record) -> list[tuple[str, Any]]:
        caption = record.data[0].caption
        return [(r.key, r) for r in ask_requests(record.key, caption, self.options.settings, self.options.seed)]


def asked_of(record: Record) -> list[Any]:
    """Round one's replies read as questions (or the reason each turn stops), in turn order."""
    caption = record.data[0].caption
    return [read_question(caption, r) for _, r in sorted(record.results[ASK].items())]


class Answer(Ask):
    name = ANSWER

    def requests(self, record: Record) -> list[tuple[str, Any]]:
        caption, o = record.data[0].caption, self.options
        kept = [item for item in asked_of(record) if not item.dropped]
        requests = [answer_request(record.key, caption, item, o.settings, o.seed) for item in kept]
        return [(r.key, r) for r in requests]


def build_capqa_row(stage: Stage, record: Record, options: CapQAOptions) -> dict[str, Any] | Rejected:
    ref, image = record.data
    answers: list[LLMResult] = [r for _, r in sorted(record.results[ANSWER].items())]
    conversation = build_conversation(ref.caption, asked_of(record), answers)
    pairs = len(conversation.messages) // 2
    if pairs < options.settings.min_turns:
        checks = Counter(d["check"] for d in conversation.dropped)
        summary = "; ".join(f"{n}x {check}" for check, n in checks.most_common())
        reason = (
            f"{pairs} question-answer pair(s) survived the filters, {options.settings.min_turns} needed ({summary})"
        )
        return stage.rejected(
            record.where, reason, stage="llm" if set(checks) == {"llm error"} else "qa", example_id=record.key,
            kept_pairs=pairs, dropped=conversation.dropped,
        )  # fmt: skip
    model = next((r.model_id for r in answers if r.model_id), "")
    return {
        "example_id": record.key,
        "image": {"bytes": image, "path": f"{record.key}.{image_extension(image)}"},
        "image_sha256": ref.image_sha256 or sha256_hex(image),
        "source": "capqa",
        "image_url": ref.image_url,
        "messages": conversation.messages,
        "caption": ref.caption,
        "source_example_id": ref.source_example_id,
        "focuses": conversation.focuses,
        "rejected_turns": len(conversation.dropped),
        "llm_model": model,
        "provenance": provenance(
            pipeline=stage.subset,
            code_version=options.code_version,
            schema_version=capqa_schema.SCHEMA_VERSION,
            seed=options.seed,
            models=[model],
            prompts_version=PROMPTS_VERSION,
            details={"input": record.where, "dropped": conversation.dropped},
        ),
    }
