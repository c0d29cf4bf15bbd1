"""PixMo-Cap: spoken descriptions of images -> Whisper transcripts -> one dense caption per image.

Graph:
    manifests ─ ReadManifests ─ FirstOfEachRecordId ─ Reshuffle ─ LoadRecord ─┬─ recordings ─ RunInference(ASR)
                                                                              │     ─ SortTranscripts ─┐
                                                                              └─ records ──────────────┴─ CoGroup
      ─ PlanCaptions (one LLM request per transcript, plus a merged one when there are several)
      ─ RunInference(LLM, keyed by record) ─ CoGroup with the plans ─ BuildRow ─ split by stable hash ─ Write

Dead letters come at two levels. Record level (the image does not become a row): manifest, download, decode,
no_recording (every recording failed), caption (the caption, or the merged caption, failed its checks),
validate. Recording level (the image may still become a row from its other recordings): audio (empty,
unreadable, too short, too long, silent), asr (nothing recognised), recording_caption (this transcript's own
caption failed: its transcript stays in the row with an empty `transcript_captions` entry). So rows plus
record-level dead letters always equal the manifest's records.
"""

import argparse
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems
from apache_beam.ml.inference.base import KeyedModelHandler, RunInference
from PIL import Image

from annotation.cap import PROMPTS_VERSION, CaptionSettings, caption_problems, caption_request, clean_caption
from annotation.cap.make_sample_manifest import make_sample_manifest
from annotation.cap.manifest import ManifestError, read_manifest
from annotation.cap.wer import word_error_rate
from annotation.exports import CAP_MANIFEST, CapRecord
from inference.asr import (
    ASRConfig,
    ASRModelHandler,
    ASRResult,
    AudioChecks,
    AudioError,
    AudioRequest,
    add_asr_arguments,
    asr_config_from_args,
    check_audio,
    decode_audio,
    encode_opus,
    resolve_model,
)
from inference.llm import LLMConfig, LLMModelHandler, LLMResult, add_llm_arguments, llm_config_from_args
from inference.llm.models import model_id_for
from media import DecodeConfig, FetchConfig, MediaError, decode_image, fetch_url, sha256_hex
from media.samples import bundled_images_dir
from pipelines.common import plots
from pipelines.common.image_source import REJECTS, is_url, read_capped
from pipelines.common.options import threads_per_worker
from pipelines.common.rejects import rejected
from pipelines.common.resources import add_accelerator_arguments, with_step_hints
from pipelines.common.shards import write_bytes_atomically
from pipelines.common.sink import write_subset_rows
from pipelines.common.splits import SplitSpec
from pipelines.common.staging import join
from pipelines.common.subset import PreviewItem, RunContext, Subset
from schemas import cap as cap_schema
from schemas.common import image_value, provenance

RECORDS = "records"
RECORD_STAGES = ("manifest", "download", "decode", "no_recording", "caption", "validate")
RECORDING_STAGES = ("audio", "asr", "recording_caption")
SAMPLE_ENV = "PIXMO_CAP_SAMPLE_DIR"
MERGED = "merged"
EMBEDDED_LLM_TOKENS = 160


def sample_dir() -> str:
    """Where the default input (the espeak-ng sample manifest) is made once and reused."""
    root = os.environ.get(SAMPLE_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "pixmo-pipeline")
    return os.path.join(root, "cap-sample-v1")


def ensure_sample_manifest() -> str:
    """The sample manifest's path, made on first use (in a temporary folder, then renamed: runs may race)."""
    target = sample_dir()
    path = os.path.join(target, CAP_MANIFEST)
    if not os.path.isfile(path):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        staging = tempfile.mkdtemp(prefix="cap-sample.tmp-", dir=os.path.dirname(target))
        make_sample_manifest(staging)
        try:
            os.rename(staging, target)
        except OSError:  # another run made it first
            shutil.rmtree(staging, ignore_errors=True)
    return path


def example_id_for(record_id: str) -> str:
    return f"cap-{hashlib.sha256(record_id.encode()).hexdigest()[:16]}"


def read_bytes(ref: str, fetch: FetchConfig) -> bytes:
    """A file or URL (local, gs://, http) as bytes, within the size cap; raises MediaError."""
    if is_url(ref):
        return fetch_url(ref, fetch).data
    return read_capped(ref, fetch.max_bytes)


def _read_whole(path: str) -> bytes:
    with FileSystems.open(path) as handle:
        return handle.read()


@dataclass
class RecordInfo:
    """A manifest record whose image loaded, on its way to becoming a row."""

    record: CapRecord
    example_id: str
    image: bytes
    image_sha256: str
    extension: str
    recordings: int
    manifest: str


@dataclass
class RecordingMeta:
    """One recording of a record: what ASR's result is joined back with (never the samples themselves)."""

    record_id: str
    index: int
    path: str
    sha256: str
    seconds: float
    reference_text: str = ""
    annotator: str = ""


@dataclass
class TranscriptItem:
    meta: RecordingMeta
    text: str
    words: list[dict[str, Any]] = field(default_factory=list)
    language: str = ""
    language_probability: float = 0.0
    model_id: str = ""


class ReadManifests(beam.DoFn):
    """Manifest path -> (record_id, (manifest, line, CapRecord)); bad lines and unreadable manifests: dead letters."""

    def __init__(self, subset: str) -> None:
        self.subset = subset

    def process(self, path: str) -> Iterator[Any]:
        try:
            entries = read_manifest(path, _read_whole)
        except ManifestError as error:
            yield beam.pvalue.TaggedOutput(REJECTS, rejected(self.subset, path, "manifest", str(error)))
            return
        if not entries:
            yield beam.pvalue.TaggedOutput(REJECTS, rejected(self.subset, path, "manifest", "the manifest is empty"))
        for line, item in entries:
            if isinstance(item, ValueError):
                yield beam.pvalue.TaggedOutput(
                    REJECTS, rejected(self.subset, f"{path}:{line}", "manifest", str(item), line=line)
                )
            else:
                yield item.record_id, (path, line, item)


def first_of_record_id(subset: str):
    def keep(element: tuple[str, Any]) -> Iterator[Any]:
        record_id, entries = element
        ordered = sorted(entries, key=lambda e: (e[0], e[1]))
        path, line, record = ordered[0]
        yield path, record
        for other_path, other_line, _ in ordered[1:]:
            reason = f"record_id {record_id!r} is already used at {path}:{line}"
            yield beam.pvalue.TaggedOutput(
                REJECTS, rejected(subset, f"{other_path}:{other_line}", "manifest", reason, record_id=record_id)
            )

    return keep


class LoadRecord(beam.DoFn):
    """(manifest, CapRecord) -> its image (fetched, decoded, normalised) and each recording decoded to 16 kHz.

    Main output: AudioRequest per usable recording. RECORDS: (record_id, RecordInfo). A record whose image fails
    is one dead letter; a recording that fails is its own dead letter and the record goes on without it.
    """

    def __init__(self, subset: str, fetch: FetchConfig, decode: DecodeConfig, checks: AudioChecks) -> None:
        self.subset = subset
        self.fetch = fetch
        self.decode = decode
        self.checks = checks

    def process(self, element: tuple[str, CapRecord]) -> Iterator[Any]:
        manifest, record = element
        details = {"record_id": record.record_id}
        try:
            data = read_bytes(record.image, self.fetch)
        except MediaError as error:
            yield beam.pvalue.TaggedOutput(
                REJECTS, rejected(self.subset, record.image, "download", error.reason, **details, **error.details)
            )
            return
        except Exception as error:  # unreadable files, filesystem errors: this record, not the run
            yield beam.pvalue.TaggedOutput(
                REJECTS, rejected(self.subset, record.image, "download", f"{type(error).__name__}: {error}", **details)
            )
            return
        try:
            decoded = decode_image(data, self.decode)
        except MediaError as error:
            yield beam.pvalue.TaggedOutput(
                REJECTS, rejected(self.subset, record.image, "decode", error.reason, **details, **error.details)
            )
            return
        info = RecordInfo(
            record=record,
            example_id=example_id_for(record.record_id),
            image=decoded.data,
            image_sha256=sha256_hex(decoded.data),
            extension="jpg" if decoded.mime == "image/jpeg" else "png",
            recordings=len(record.audio),
            manifest=manifest,
        )
        yield beam.pvalue.TaggedOutput(RECORDS, (record.record_id, info))
        for index, path in enumerate(record.audio):
            failure = None
            try:
                if is_url(path):  # media.fetch refuses non-image content types
                    raise AudioError("audio over http(s) is not supported: give a local or gs:// path")
                data = read_capped(path, self.checks.max_bytes)
                samples = decode_audio(data, self.checks)
                seconds = check_audio(samples, self.checks)
            except (AudioError, MediaError) as error:
                failure = (error.reason, error.details)
            except Exception as error:
                failure = (f"unreadable: {type(error).__name__}: {error}", {})
            if failure is not None:
                reason, more = failure
                yield beam.pvalue.TaggedOutput(
                    REJECTS, rejected(self.subset, path, "audio", reason, index=index, **details, **more)
                )
                continue
            meta = RecordingMeta(
                record_id=record.record_id,
                index=index,
                path=path,
                sha256=sha256_hex(data),
                seconds=round(seconds, 3),
                reference_text=record.reference_texts[index] if record.reference_texts else "",
                annotator=record.annotators[index] if index < len(record.annotators) else "",
            )
            yield AudioRequest(f"{record.record_id}#{index}", samples, meta)


class SortTranscripts(beam.DoFn):
    """ASRResult -> (record_id, TranscriptItem), or a recording-level dead letter (nothing recognised)."""

    def __init__(self, subset: str) -> None:
        self.subset = subset

    def process(self, result: ASRResult) -> Iterator[Any]:
        meta: RecordingMeta = result.payload
        if result.error or result.transcript is None:
            yield beam.pvalue.TaggedOutput(
                REJECTS,
                rejected(self.subset, meta.path, "asr", result.error, record_id=meta.record_id, index=meta.index),
            )
            return
        t = result.transcript
        words = [{"word": w.word, "start": w.start, "end": w.end, "probability": w.probability} for w in t.words]
        yield meta.record_id, TranscriptItem(meta, t.text, words, t.language, t.language_probability, result.model_id)


@dataclass
class PendingRow:
    info: RecordInfo
    transcripts: list[TranscriptItem]


class PlanCaptions(beam.DoFn):
    """(record_id, {records, transcripts}) -> (record_id, LLMRequest) per caption to write; PENDING the row to be."""

    PENDING = "pending"

    def __init__(self, subset: str, settings: CaptionSettings, seed: int) -> None:
        self.subset = subset
        self.settings = settings
        self.seed = seed

    def _seed(self, record_id: str, part: str) -> int:
        return int.from_bytes(hashlib.sha256(f"cap:{self.seed}:{record_id}:{part}".encode()).digest()[:4], "big")

    def process(self, element: tuple[str, Any]) -> Iterator[Any]:  # (record_id, CoGroupByKey dict)
        record_id, grouped = element
        if not grouped[RECORDS]:
            return  # recordings of a record whose image failed never get here (LoadRecord stops first)
        info: RecordInfo = grouped[RECORDS][0]
        transcripts = sorted(grouped["transcripts"], key=lambda t: t.meta.index)
        if not transcripts:
            reason = f"no usable recording: all {info.recordings} failed (see their audio/asr dead letters)"
            yield beam.pvalue.TaggedOutput(
                REJECTS, rejected(self.subset, info.record.image, "no_recording", reason, record_id=record_id)
            )
            return
        for t in transcripts:
            part = str(t.meta.index)
            yield record_id, caption_request(part, [t.text], self.settings, self._seed(record_id, part))
        if len(transcripts) > 1:
            texts = [t.text for t in transcripts]
            yield record_id, caption_request(MERGED, texts, self.settings, self._seed(record_id, MERGED))
        yield beam.pvalue.TaggedOutput(self.PENDING, (record_id, PendingRow(info, transcripts)))


class BuildRow(beam.DoFn):
    """(record_id, {pending, captions}) -> (split, row); failed captions become dead letters with the reason."""

    def __init__(self, subset: str, settings: CaptionSettings, splits: SplitSpec, seed: int, code_version: str) -> None:
        self.subset = subset
        self.settings = settings
        self.splits = splits
        self.seed = seed
        self.code_version = code_version

    def _caption(self, result: LLMResult | None, sources: list[str]) -> tuple[str, str]:
        """(caption, "") or ("", why it was rejected)."""
        if result is None:
            return "", "no LLM result"
        if result.error:
            return "", f"LLM error: {result.error}"
        caption = clean_caption(result.text, truncated=result.finish_reason == "length")
        problems = caption_problems(caption, sources, self.settings)
        return ("", "; ".join(problems)) if problems else (caption, "")

    def process(self, element: tuple[str, Any]) -> Iterator[Any]:  # (record_id, CoGroupByKey dict)
        record_id, grouped = element
        if not grouped[PlanCaptions.PENDING]:
            return
        pending: PendingRow = grouped[PlanCaptions.PENDING][0]
        info, transcripts = pending.info, pending.transcripts
        results: dict[str, LLMResult] = {r.key: r for r in grouped["captions"]}
        llm_model = next((r.model_id for r in results.values() if r.model_id), "")
        details = {"record_id": record_id}

        per_transcript, first_why = [], ""
        for t in transcripts:
            result = results.get(str(t.meta.index))
            caption, why = self._caption(result, [t.text])
            first_why = first_why or why
            if why:
                yield beam.pvalue.TaggedOutput(
                    REJECTS,
                    rejected(
                        self.subset, t.meta.path, "recording_caption", why, index=t.meta.index,
                        llm_text=(result.text if result else "")[:500], **details,
                    ),
                )  # fmt: skip
            per_transcript.append(caption)
        if len(transcripts) == 1:
            caption, why = per_transcript[0], "" if per_transcript[0] else f"the only recording's caption: {first_why}"
        else:
            caption, why = self._caption(results.get(MERGED), [t.text for t in transcripts])
            why = f"merged caption: {why}" if why else ""
        if why:
            # The transcripts ride along: the costly ASR work is not lost with the caption.
            transcribed = [t.text for t in transcripts]
            yield beam.pvalue.TaggedOutput(
                REJECTS, rejected(self.subset, info.record.image, "caption", why, transcripts=transcribed, **details)
            )
            return

        audio = []
        for t in transcripts:
            reference = t.meta.reference_text
            audio.append(
                {
                    "path": t.meta.path,
                    "sha256": t.meta.sha256,
                    "seconds": t.meta.seconds,
                    "language": t.language,
                    "language_probability": t.language_probability,
                    "words": t.words,
                    "reference_text": reference,
                    "wer": round(word_error_rate(reference, t.text), 4) if reference else None,
                    "annotator": t.meta.annotator,
                }
            )
        record = info.record
        asr_model = transcripts[0].model_id
        row = cap_schema.build_row(
            example_id=info.example_id,
            image=image_value(info.image, f"{info.example_id}.{info.extension}"),
            image_sha256=info.image_sha256,
            source="url" if is_url(record.image) else "file",
            image_url=record.image_url or record.image,
            caption=caption,
            transcripts=[t.text for t in transcripts],
            transcript_captions=per_transcript,
            audio=audio,
            caption_chars=len(caption),
            caption_words=len(caption.split()),
            record_id=record_id,
            asr_model=asr_model,
            llm_model=llm_model,
            provenance=provenance(
                pipeline="cap",
                code_version=self.code_version,
                schema_version=cap_schema.SCHEMA_VERSION,
                seed=self.seed,
                models=[asr_model, llm_model],
                prompts_version=PROMPTS_VERSION,
                details={
                    "manifest": info.manifest,
                    "image_ref": record.image,
                    "recordings_listed": info.recordings,
                    "recordings_kept": len(transcripts),
                    "caption_settings": vars(self.settings),
                },
            ),
        )
        problems = cap_schema.validate(row)
        if problems:
            reason = "; ".join(problems)
            yield beam.pvalue.TaggedOutput(REJECTS, rejected(self.subset, record.image, "validate", reason, **details))
            return
        yield self.splits.split_for_key(info.example_id, salt=f"cap:{self.seed}"), row


def _preview_audio(audio: dict[str, Any]) -> bytes:
    """A recording as small Ogg/Opus for the preview's player; empty (no player) if it can't be read now."""
    try:
        return encode_opus(decode_audio(_read_whole(audio["path"])))
    except (OSError, AudioError):
        return b""


def _preview_jpeg(data: bytes, max_side: int = 640) -> bytes:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


class Cap(Subset):
    name = "cap"
    summary = "spoken image descriptions -> Whisper transcripts -> one dense caption per image"
    schema = cap_schema
    default_num_examples = None  # the manifest decides
    stats_columns = ("caption_words", "caption_chars", "transcripts", "transcript_captions", "audio")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--input",
            action="append",
            metavar="MANIFEST",
            help="A Cap manifest: .jsonl of annotation.exports.CapRecord (the annotation app's "
            "EXPORT/cap_manifest.jsonl), or .csv/.tsv/.parquet with columns image, audio (required), record_id, "
            "image_url, reference_texts, annotators (lists as JSON or '|'-separated). Local or gs://; paths inside "
            "are relative to the manifest's folder. Repeat for more. Default: a sample manifest spoken with espeak-ng "
            f"over ultralytics' bundled photos, made once under ~/.cache/pixmo-pipeline (${SAMPLE_ENV}).",
        )
        parser.add_argument(
            "--min-audio-seconds",
            type=float,
            default=AudioChecks.min_seconds,
            help="Shorter recordings are rejected (default: %(default)s).",
        )
        parser.add_argument(
            "--max-audio-seconds",
            type=float,
            default=AudioChecks.max_seconds,
            help="Longer recordings are rejected (default: %(default)s).",
        )
        parser.add_argument(
            "--silence-dbfs",
            type=float,
            default=AudioChecks.silence_dbfs,
            help="Recordings whose loudest sample is below this level are rejected as silent (default: %(default)s).",
        )
        parser.add_argument(
            "--caption-tokens",
            type=int,
            default=None,
            help="LLM token budget per caption; a caption cut off loses its unfinished sentence (default: "
            f"{CaptionSettings.max_new_tokens}, enough for PixMo's ~200-word captions; {EMBEDDED_LLM_TOKENS} for the "
            "embedded 135M model, which loops beyond that and has its loops cut anyway).",
        )
        parser.add_argument(
            "--caption-temperature",
            type=float,
            default=CaptionSettings.temperature,
            help="0 = greedy, the same transcript always gives the same caption (default: %(default)s).",
        )
        parser.add_argument(
            "--caption-min-words",
            type=int,
            default=CaptionSettings.min_words,
            help="Shorter captions are rejected (default: %(default)s).",
        )
        parser.add_argument(
            "--caption-max-novel",
            type=float,
            default=CaptionSettings.max_novel,
            help="Captions whose content words were more than this share never said are rejected as invented "
            "(default: %(default)s).",
        )
        parser.add_argument(
            "--caption-min-coverage",
            type=float,
            default=CaptionSettings.min_coverage,
            help="Captions keeping less than this share of the transcript's content words are rejected "
            "(default: %(default)s).",
        )
        parser.add_argument(
            "--max-image-bytes", type=int, default=32 * 1024 * 1024, help="Image size cap (default: 32 MiB)."
        )
        add_asr_arguments(parser)
        add_llm_arguments(parser)
        add_accelerator_arguments(parser, "asr")
        add_accelerator_arguments(parser, "llm")

    # -- configs from arguments --

    def inputs(self, args: argparse.Namespace) -> tuple[str, ...]:
        return tuple(args.input) if args.input else (os.path.join(sample_dir(), CAP_MANIFEST),)

    def audio_checks(self, args: argparse.Namespace) -> AudioChecks:
        return AudioChecks(
            min_seconds=args.min_audio_seconds, max_seconds=args.max_audio_seconds, silence_dbfs=args.silence_dbfs
        )

    def default_caption_tokens(self, args: argparse.Namespace) -> int:
        embedded = args.llm_backend == "transformers" and args.llm_model is None
        return EMBEDDED_LLM_TOKENS if embedded else CaptionSettings.max_new_tokens

    def caption_settings(self, args: argparse.Namespace) -> CaptionSettings:
        return CaptionSettings(
            max_new_tokens=args.caption_tokens or self.default_caption_tokens(args),
            temperature=args.caption_temperature,
            min_words=args.caption_min_words,
            min_coverage=args.caption_min_coverage,
            max_novel=args.caption_max_novel,
        )

    def asr_config(self, args: argparse.Namespace) -> ASRConfig:
        config = asr_config_from_args(args)
        return replace(config, cpu_threads=threads_per_worker(config.cpu_threads, args.workers))

    def llm_config(self, args: argparse.Namespace) -> LLMConfig:
        config = llm_config_from_args(args)
        if config.backend == "transformers":
            config = replace(config, cpu_threads=threads_per_worker(config.cpu_threads, args.workers))
        return config

    def check_arguments(self, args: argparse.Namespace) -> list[str]:
        problems = []
        if args.num_examples is not None:
            problems.append("--num-examples does not apply to cap: the manifest decides how many examples there are")
        try:
            if SplitSpec.parse(args.splits).exact:
                problems.append("--splits: cap assigns rows by a stable hash, so give fractions (train=0.98,...)")
        except ValueError:
            pass  # reported by the common checks
        for spec in args.input or []:
            if "://" not in spec and not os.path.isfile(spec):
                problems.append(f"--input {spec!r}: no such manifest file")
            if not spec.lower().endswith((".jsonl", ".csv", ".tsv", ".parquet")):
                problems.append(f"--input {spec!r}: a manifest is .jsonl, .csv, .tsv or .parquet")
        if not args.input and not os.path.isfile(os.path.join(sample_dir(), CAP_MANIFEST)):
            if shutil.which("espeak-ng") is None or bundled_images_dir() is None:
                problems.append(
                    "no --input, and the default sample manifest needs espeak-ng and ultralytics' sample photos "
                    "to be made: install them, or pass --input MANIFEST"
                )
        problems += self.audio_checks(args).validate()
        problems += self.caption_settings(args).validate()
        problems += asr_config_from_args(args).validate()
        problems += llm_config_from_args(args).validate()
        if args.max_image_bytes < 1:
            problems.append("--max-image-bytes must be positive")
        return problems

    def fingerprint(self, args: argparse.Namespace) -> dict[str, Any]:
        return {"inputs": list(self.inputs(args)), "models": self.models(args), "prompts": PROMPTS_VERSION}

    def models(self, args: argparse.Namespace) -> list[str]:
        asr = resolve_model(args.asr_model)[1]
        if args.llm_backend == "transformers":
            return [asr, model_id_for(args.llm_model)]
        return [asr, args.llm_model or f"{args.llm_backend}:{args.llm_url or 'default'}"]

    # -- the graph --

    def build(self, pipeline: beam.Pipeline, ctx: RunContext) -> None:
        args = ctx.args
        if not args.input:
            ensure_sample_manifest()
        fetch = FetchConfig(max_bytes=args.max_image_bytes)
        settings, seed = self.caption_settings(args), args.seed
        splits = SplitSpec.parse(args.splits)

        listed = (
            pipeline
            | "Manifests" >> beam.Create(sorted(set(self.inputs(args))))
            | "ReadManifests" >> beam.ParDo(ReadManifests(self.name)).with_outputs(REJECTS, main="records")
        )
        unique = (
            listed.records
            | "GroupRecordIds" >> beam.GroupByKey()
            | "FirstOfEachRecordId" >> beam.FlatMap(first_of_record_id(self.name)).with_outputs(REJECTS, main="records")
        )
        loaded = (
            unique.records
            | "Spread" >> beam.Reshuffle()
            | "LoadRecord"
            >> beam.ParDo(LoadRecord(self.name, fetch, DecodeConfig(), self.audio_checks(args))).with_outputs(
                REJECTS, RECORDS, main="recordings"
            )
        )
        transcribed = (
            loaded.recordings
            | "Transcribe" >> with_step_hints(RunInference(ASRModelHandler(self.asr_config(args))), args, "asr")
            | "SortTranscripts" >> beam.ParDo(SortTranscripts(self.name)).with_outputs(REJECTS, main="transcripts")
        )
        planned = (
            {RECORDS: loaded[RECORDS], "transcripts": transcribed.transcripts}
            | "JoinTranscripts" >> beam.CoGroupByKey()
            | "PlanCaptions"
            >> beam.ParDo(PlanCaptions(self.name, settings, seed)).with_outputs(
                REJECTS, PlanCaptions.PENDING, main="requests"
            )
        )
        captions = planned.requests | "Caption" >> with_step_hints(
            RunInference(KeyedModelHandler(LLMModelHandler(self.llm_config(args)))), args, "llm"
        )
        built = (
            {PlanCaptions.PENDING: planned[PlanCaptions.PENDING], "captions": captions}
            | "JoinCaptions" >> beam.CoGroupByKey()
            | "BuildRow"
            >> beam.ParDo(BuildRow(self.name, settings, splits, seed, ctx.code_version)).with_outputs(
                REJECTS, main="rows"
            )
        )
        rejects = (
            listed[REJECTS],
            unique[REJECTS],
            loaded[REJECTS],
            transcribed[REJECTS],
            planned[REJECTS],
            built[REJECTS],
        ) | "AllRejects" >> beam.Flatten()
        _ = (built.rows, rejects) | "Write" >> write_subset_rows(self, ctx)

    # -- reports --

    def plot_stats(self, table: pa.Table, out_dir: str) -> list[str]:
        words = table.column("caption_words").to_pylist()
        audio = [a for row in table.column("audio").to_pylist() for a in row]
        seconds = [a["seconds"] for a in audio]
        wers = [a["wer"] for a in audio if a["wer"] is not None]
        per_image = Counter(len(t) for t in table.column("transcripts").to_pylist())
        kept = [c for row in table.column("transcript_captions").to_pylist() for c in row]
        files = {
            "caption_words.png": plots.histogram_png(words, 20, "Words per caption", "words"),
            "audio_seconds.png": plots.histogram_png(seconds, 20, "Seconds per kept recording", "seconds"),
            "transcripts_per_image.png": plots.bar_png(
                [str(k) for k in sorted(per_image)],
                [per_image[k] for k in sorted(per_image)],
                "Kept transcripts per image",
                "transcripts",
            ),
        }
        if wers:
            files["wer.png"] = plots.histogram_png(wers, 20, "ASR word error rate vs reference text", "WER")
        for name, data in files.items():
            write_bytes_atomically(join(out_dir, name), data)
        summary = {
            "rows": table.num_rows,
            "caption_words_mean": sum(words) / len(words) if words else 0,
            "audio_seconds_total": round(sum(seconds), 2),
            "recordings": len(audio),
            "recording_captions_kept": sum(1 for c in kept if c),
            "wer_mean": round(sum(wers) / len(wers), 4) if wers else None,
            "wer_recordings": len(wers),
        }
        write_bytes_atomically(join(out_dir, "cap_stats.json"), json.dumps(summary, indent=1).encode())
        return list(files)

    def preview_item(self, row: dict[str, Any]) -> PreviewItem:
        audio = row["audio"]
        wers = [f"{a['wer']:.2f}" if a["wer"] is not None else "-" for a in audio]
        qa = [
            (f"Transcript {i + 1} ({a['seconds']:.0f} s): {t}", c or "(caption rejected)")
            for i, (t, c, a) in enumerate(zip(row["transcripts"], row["transcript_captions"], audio, strict=True))
        ]
        if len(row["transcripts"]) > 1:
            qa.append(("Merged caption", row["caption"]))
        return PreviewItem(
            audio=[
                (f"recording {i + 1}", data, "audio/ogg") for i, data in enumerate(map(_preview_audio, audio)) if data
            ],
            image=_preview_jpeg(row["image"]["bytes"]),
            image_mime="image/jpeg",
            title=f"{row['caption_words']} words from {len(audio)} recording(s)",
            fields={
                "audio": " | ".join(a["path"] for a in audio),
                "seconds": ", ".join(f"{a['seconds']:.1f}" for a in audio),
                "WER": ", ".join(wers),
                "language": ", ".join(a["language"] for a in audio),
                "asr": row["asr_model"],
                "llm": row["llm_model"],
                "record": row["record_id"],
            },
            qa=qa,
        )

    def card_description(self, args: argparse.Namespace) -> str:
        asr_model, llm_model = self.models(args)
        checks, settings = self.audio_checks(args), self.caption_settings(args)
        return (
            "Images described aloud by annotators, transcribed by Whisper and rewritten by a text-only LLM into "
            "one dense caption, following PixMo-Cap (columns `image_url`, `caption`, `transcripts`). "
            f"ASR: `{asr_model}` (faster-whisper, temperature 0, word timestamps). LLM: `{llm_model}` "
            f"({args.llm_backend}), prompts `{PROMPTS_VERSION}`: remove fillers and false starts, keep every visual "
            "detail, never invent.\n\n"
            "Each row keeps every usable recording: its transcript, its own caption (`transcript_captions`), and "
            "its receipt in `audio` (path, sha256, seconds, detected language, words with timestamps, and the word "
            "error rate against `reference_text` when the manifest gives one). With several recordings, `caption` "
            "is a merged caption written from all transcripts; with one, it is that transcript's caption. "
            "`caption_chars` is the caption's length, from which the trainer builds Molmo's `long_caption N:` hint.\n\n"
            f"Recordings that are empty, unreadable, shorter than {checks.min_seconds:g} s or longer than "
            f"{checks.max_seconds:g} s, silent (peak under {checks.silence_dbfs:g} dBFS) or without recognised "
            "speech are dead letters; the image goes on with its other recordings. Captions are cleaned (labels, "
            "markdown, leftover fillers; a loop or a cut-off sentence is cut) and rejected, with the reason, when "
            f"empty, under {settings.min_words} words, copying the instructions, keeping under "
            f"{settings.min_coverage:.0%} of the transcript's content words, or with over {settings.max_novel:.0%} "
            "of their content words never said. A transcript is never used as its own caption. Splits are "
            "assigned by a stable hash of the example id."
        )
