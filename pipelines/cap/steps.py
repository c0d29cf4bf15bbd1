"""Cap's steps on the record-flow skeleton: manifests listed, images read, two model rounds, the row.

    manifests (driver) ─ input shards ─ ReadCapImages ─ Transcribe (ASR, one request per recording)
      ─ Caption (LLM: one request per transcript, plus a merged one when there are several) ─ build_cap_row

Dead letters come at two levels. Record level (the image does not become a row): manifest, duplicate (a
record_id listed again), download, decode, no_recording (every recording failed), caption (no caption passed
its checks), validate. Recording level (part=True; the image may still become a row from its other recordings):
audio (empty, unreadable, too short, too long, silent), asr (nothing recognised), recording_caption (this
transcript's own caption failed: its transcript stays in the row with an empty `transcript_captions` entry).
So rows plus record-level dead letters always equal the manifest's records.
"""

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from apache_beam.io.filesystems import FileSystems

from annotation.cap import PROMPTS_VERSION, caption_problems, caption_request, clean_caption_explained
from annotation.cap.manifest import ManifestError, read_manifest
from annotation.cap.wer import word_error_rate
from annotation.exports import CapRecord
from inference.asr import ASRModelHandler, ASRResult, AudioError, AudioRequest, check_audio, decode_audio
from inference.llm import LLMModelHandler, LLMResult
from media import MediaError, sha256_hex
from media.urls import redact
from pipelines.cap.options import CapOptions
from pipelines.common.input_plan import InputRef, Listing
from pipelines.common.listing import example_id_for
from pipelines.common.media_loader import is_url, load_for_refs, read_capped
from pipelines.common.record_flow import ModelRound, Reader, Record
from pipelines.common.rejects import Rejected, rejected
from pipelines.common.stage import Stage
from schemas import cap as cap_schema
from schemas.common import image_value, provenance

TRANSCRIBE, CAPTION, MERGED = "Transcribe", "Caption", "merged"


@dataclass(frozen=True)
class RecordingMeta:
    """One recording of a record: what its ASR result carries back (never the samples themselves)."""

    index: int
    path: str
    sha256: str
    seconds: float
    reference_text: str = ""
    annotator: str = ""


def _read_whole(path: str) -> bytes:
    with FileSystems.open(path) as handle:
        return handle.read()


def list_manifests(subset: str, manifests: Sequence[str]) -> Listing:
    """Every record of every manifest (keyed by record_id), and a dead letter for each unusable line."""
    refs, rejects = [], []
    for path in sorted(set(manifests)):
        try:
            entries = read_manifest(path, _read_whole)
        except ManifestError as error:
            rejects.append(rejected(subset, path, "manifest", str(error)))
            continue
        if not entries:
            rejects.append(rejected(subset, path, "manifest", "the manifest is empty"))
        for line, item in entries:
            if isinstance(item, ValueError):
                rejects.append(rejected(subset, f"{path}:{line}", "manifest", str(item), line=line))
            else:
                refs.append(InputRef(item.record_id, f"{path}:{line}", (path, item)))
    return Listing(tuple(refs), tuple(rejects))


def duplicate_record(subset: str, first: InputRef, other: InputRef) -> Rejected:
    reason = f"record_id {other.key!r} is already used at {first.where}"
    return rejected(subset, other.where, "manifest", reason, record_id=other.key)


class ReadCapImages(Reader):
    """Each record's image read and decoded (the recordings are read by the Transcribe round)."""

    def __init__(self, subset: str, options: CapOptions) -> None:
        super().__init__(subset)
        self.options = options

    def read(self, refs: Sequence[InputRef]) -> Iterator[tuple[InputRef, Record | Rejected]]:
        o = self.options
        for ref, image, loaded in load_for_refs(refs, lambda r: r.payload[1].image, o.fetch, o.decode):
            manifest, record = ref.payload
            if isinstance(loaded, MediaError):
                stage = loaded.details.get("stage", "decode")
                details = {k: v for k, v in loaded.details.items() if k != "stage"}
                yield ref, self.rejected(redact(image), loaded.reason, stage=stage, record_id=ref.key, **details)
            else:
                example_id = example_id_for(self.subset, ref.key)
                yield ref, Record(ref.key, record.image, example_id, (manifest, record), loaded)


class Transcribe(ModelRound):
    """One ASR request per recording that decodes and passes the audio checks; the others are part dead letters."""

    name = TRANSCRIBE
    stage = "audio"

    def __init__(self, subset: str, options: CapOptions, resource_hints: dict[str, str] | None = None) -> None:
        super().__init__(subset, resource_hints)
        self.options = options

    def handler(self) -> ASRModelHandler:
        return ASRModelHandler(self.options.asr)

    def requests(self, record: Record) -> list[tuple[str, Any] | Rejected]:
        cap: CapRecord = record.data[1]
        checks = self.options.checks
        out: list[tuple[str, Any] | Rejected] = []
        for index, path in enumerate(cap.audio):
            try:
                if is_url(path):  # media.fetch refuses non-image content types
                    raise AudioError("audio over http(s) is not supported: give a local or gs:// path")
                data = read_capped(path, checks.max_bytes)
                samples = decode_audio(data, checks)
                seconds = check_audio(samples, checks)
            except (AudioError, MediaError) as error:
                out.append(self.rejected(path, error.reason, part=True, index=index, record_id=record.key,
                                         **error.details))  # fmt: skip
                continue
            except Exception as error:  # noqa: BLE001 - an unreadable file: this recording, not the record
                reason = f"unreadable: {type(error).__name__}: {error}"
                out.append(self.rejected(path, reason, part=True, index=index, record_id=record.key))
                continue
            meta = RecordingMeta(
                index=index,
                path=path,
                sha256=sha256_hex(data),
                seconds=round(seconds, 3),
                reference_text=cap.reference_texts[index] if cap.reference_texts else "",
                annotator=cap.annotators[index] if index < len(cap.annotators) else "",
            )
            out.append((str(index), AudioRequest(f"{record.key}#{index}", samples, meta)))
        return out


def transcripts_of(record: Record) -> list[ASRResult]:
    """The recordings ASR understood, in recording order."""
    results = record.results.get(TRANSCRIBE, {}).values()
    return sorted((r for r in results if not r.error and r.transcript), key=lambda r: r.payload.index)


class Caption(ModelRound):
    """One caption request per transcript, and a merged one when there are several; failed ASR: part dead letters."""

    name = CAPTION
    stage = "asr"

    def __init__(self, subset: str, options: CapOptions, resource_hints: dict[str, str] | None = None) -> None:
        super().__init__(subset, resource_hints)
        self.options = options

    def handler(self) -> LLMModelHandler:
        return LLMModelHandler(self.options.llm)

    def _seed(self, record_id: str, part: str) -> int:
        digest = hashlib.sha256(f"cap:{self.options.seed}:{record_id}:{part}".encode()).digest()
        return int.from_bytes(digest[:4], "big")

    def requests(self, record: Record) -> list[tuple[str, Any] | Rejected]:
        out: list[tuple[str, Any] | Rejected] = []
        for result in record.results[TRANSCRIBE].values():
            if result.error or not result.transcript:
                meta: RecordingMeta = result.payload
                out.append(self.rejected(meta.path, result.error, part=True, record_id=record.key, index=meta.index))
        good = transcripts_of(record)
        settings = self.options.settings
        for result in good:
            part = str(result.payload.index)
            out.append((part, caption_request(part, [result.transcript.text], settings, self._seed(record.key, part))))
        if len(good) > 1:
            texts = [r.transcript.text for r in good]
            out.append((MERGED, caption_request(MERGED, texts, settings, self._seed(record.key, MERGED))))
        return out


def checked_caption(result: LLMResult | None, sources: list[str], options: CapOptions) -> tuple[str, str]:
    """(caption, "") or ("", why it was rejected)."""
    if result is None:
        return "", "no LLM result"
    if result.error:
        return "", f"LLM error: {result.error}"
    cleaned = clean_caption_explained(result.text, truncated=result.finish_reason == "length")
    problems = caption_problems(cleaned.text, sources, options.settings, cleaned.cut)
    return ("", "; ".join(problems)) if problems else (cleaned.text, "")


def build_cap_row(stage: Stage, record: Record, options: CapOptions) -> dict[str, Any] | list[Rejected] | Rejected:
    """The row, or the record's dead letter. Failed per-recording captions are part dead letters returned in
    the row's `_part_rejects` (the skeleton routes them)."""
    manifest, cap = record.data
    image = record.image
    assert image is not None
    good = transcripts_of(record)
    if not good:
        reason = f"no usable recording: all {len(cap.audio)} failed (see their audio/asr dead letters)"
        return stage.rejected(cap.image, reason, stage="no_recording", record_id=record.key)
    captions: dict[str, LLMResult] = record.results.get(CAPTION, {})
    llm_model = next((r.model_id for r in captions.values() if r.model_id), "")
    per_transcript, parts, first_why = [], [], ""
    for result in good:
        meta: RecordingMeta = result.payload
        caption, why = checked_caption(captions.get(str(meta.index)), [result.transcript.text], options)
        first_why = first_why or why
        if why:
            text = captions[str(meta.index)].text if str(meta.index) in captions else ""
            parts.append(stage.rejected(meta.path, why, stage="recording_caption", part=True, index=meta.index,
                                        llm_text=text[:500], record_id=record.key))  # fmt: skip
        per_transcript.append(caption)
    source = "merged" if len(good) > 1 else "transcript 1"
    if len(good) == 1:
        caption, why = per_transcript[0], f"the only recording's caption: {first_why}" if first_why else ""
    else:
        caption, why = checked_caption(captions.get(MERGED), [r.transcript.text for r in good], options)
        if why:
            # The merged caption failed: the best passing caption of one recording (the most words) stands in.
            passing = [(len(c.split()), -i, i) for i, c in enumerate(per_transcript) if c]
            if passing:
                best = max(passing)[2]
                caption, source = per_transcript[best], f"transcript {best + 1} (merged caption failed: {why})"
                why = ""
            else:
                why = f"merged caption: {why}"
    if why:
        # The transcripts ride along: the costly ASR work is not lost with the caption.
        transcribed = [r.transcript.text for r in good]
        return parts + [stage.rejected(cap.image, why, stage="caption", transcripts=transcribed, record_id=record.key)]
    audio = [_receipt(r) for r in good]
    asr_model = good[0].model_id
    row = cap_schema.build_row(
        example_id=record.example_id,
        image=image_value(image.data, f"{record.example_id}.{image.extension}"),
        image_sha256=image.sha256,
        source="url" if is_url(cap.image) else "file",
        image_url=cap.image_url or cap.image,
        caption=caption,
        transcripts=[r.transcript.text for r in good],
        transcript_captions=per_transcript,
        audio=audio,
        caption_chars=len(caption),
        caption_words=len(caption.split()),
        record_id=record.key,
        asr_model=asr_model,
        llm_model=llm_model,
        provenance=provenance(
            pipeline="cap",
            code_version=options.code_version,
            schema_version=cap_schema.SCHEMA_VERSION,
            seed=options.seed,
            models=[asr_model, llm_model],
            prompts_version=PROMPTS_VERSION,
            details={
                "manifest": manifest,
                "image_ref": cap.image,
                "recordings_listed": len(cap.audio),
                "recordings_kept": len(good),
                "caption_source": source,
                "caption_settings": vars(options.settings),
            },
        ),
    )
    return [*parts, row] if parts else row


def _receipt(result: ASRResult) -> dict[str, Any]:
    meta: RecordingMeta = result.payload
    t = result.transcript
    reference = meta.reference_text
    return {
        "path": meta.path,
        "sha256": meta.sha256,
        "seconds": meta.seconds,
        "language": t.language,
        "language_probability": t.language_probability,
        "words": [{"word": w.word, "start": w.start, "end": w.end, "probability": w.probability} for w in t.words],
        "reference_text": reference,
        "wer": round(word_error_rate(reference, t.text), 4) if reference else None,
        "annotator": meta.annotator,
    }
