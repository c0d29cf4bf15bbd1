"""PixMo-Cap: spoken descriptions of images -> Whisper transcripts -> one dense caption per image.

On the record-flow skeleton (pipelines/common/record_flow.py); the steps and the dead-letter levels are in
pipelines/cap/steps.py:
    manifests ─ input shards ─ read images ─ Transcribe (RunInference, ASR) ─ Caption (RunInference, LLM)
      ─ build row (clean, check, WER; the best passing caption when the merged one fails) ─ output shards
"""

import argparse
import json
from collections import Counter
from typing import Any

from apache_beam.io.filesystems import FileSystems

from annotation.cap import PROMPTS_VERSION
from inference.asr import AudioError, decode_audio, encode_opus
from pipelines.cap.options import CapOptions, add_cap_arguments, ensure_sample_manifest, parse_cap_options
from pipelines.cap.steps import (
    Caption,
    ReadCapImages,
    Transcribe,
    build_cap_row,
    duplicate_record,
    list_manifests,
)
from pipelines.common import plots
from pipelines.common.input_plan import InputRef, Listing
from pipelines.common.preview import preview_jpeg
from pipelines.common.record_flow import ModelRound, Reader, Record, RecordSubset
from pipelines.common.rejects import Rejected
from pipelines.common.report import RunReport
from pipelines.common.shards import write_bytes_atomically
from pipelines.common.stage import Stage
from pipelines.common.staging import join
from pipelines.common.subset import PreviewItem, RunContext
from pipelines.common.version import code_version
from schemas import cap as cap_schema

RECORD_STAGES = ("manifest", "download", "decode", "no_recording", "caption", "validate")
RECORDING_STAGES = ("audio", "asr", "recording_caption")


def _read_whole(path: str) -> bytes:
    with FileSystems.open(path) as handle:
        return handle.read()


def _preview_audio(audio: dict[str, Any]) -> bytes:
    """A recording as small Ogg/Opus for the preview's player; empty (no player) if it can't be read now."""
    try:
        return encode_opus(decode_audio(_read_whole(audio["path"])))
    except (OSError, AudioError):
        return b""


class Cap(RecordSubset):
    name = "cap"
    summary = "spoken image descriptions -> Whisper transcripts -> one dense caption per image"
    schema = cap_schema
    default_num_examples = None  # the manifest decides
    stats_columns = ("caption_words", "caption_chars", "transcripts", "transcript_captions", "audio")
    input_shard_size = 8  # ~10 s of CPU a record: a resumed run keeps all but the last minute or so

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_cap_arguments(parser)

    def parse(self, args: argparse.Namespace, dry_run: bool = False) -> tuple[CapOptions | None, list[str]]:
        return parse_cap_options(args, code_version())

    def fingerprint(self, options: CapOptions) -> dict[str, Any]:
        return {"inputs": list(options.inputs), "models": self.models(options), "prompts": PROMPTS_VERSION}

    def models(self, options: CapOptions) -> list[str]:
        return [options.asr_id, options.llm_id]

    def prepare(self, ctx: RunContext, out: Any) -> None:
        if ctx.options.sample and not ctx.dry_run:
            ensure_sample_manifest()
        super().prepare(ctx, out)

    def list_inputs(self, options: CapOptions) -> Listing:
        return list_manifests(self.name, options.inputs)

    def duplicate_rejected(self, first: InputRef, other: InputRef) -> Rejected:
        return duplicate_record(self.name, first, other)

    def reader(self, options: CapOptions) -> Reader:
        return ReadCapImages(self.name, options)

    def rounds(self, options: CapOptions) -> list[ModelRound]:
        return [Transcribe(self.name, options, options.asr_hints), Caption(self.name, options, options.llm_hints)]

    def build_row(self, record: Record, options: CapOptions) -> Any:
        return build_cap_row(Stage(self.name), record, options)

    # -- reports --

    def plot_stats(self, report: RunReport, out_dir: str) -> list[str]:
        table = report.table
        words = table.column("caption_words").to_pylist()
        audio = [a for row in table.column("audio").to_pylist() for a in row]
        seconds = [a["seconds"] for a in audio]
        wers = [a["wer"] for a in audio if a["wer"] is not None]
        per_image = Counter(len(t) for t in table.column("transcripts").to_pylist())
        kept = [c for row in table.column("transcript_captions").to_pylist() for c in row]
        files = {
            "caption_words.svg": plots.histogram_svg(words, 20, "Words per caption", "words"),
            "audio_seconds.svg": plots.histogram_svg(seconds, 20, "Seconds per kept recording", "seconds"),
            "transcripts_per_image.svg": plots.bar_svg(
                [str(k) for k in sorted(per_image)],
                [per_image[k] for k in sorted(per_image)],
                "Kept transcripts per image",
                "transcripts",
            ),
        }
        if wers:
            files["wer.svg"] = plots.histogram_svg(wers, 20, "ASR word error rate vs reference text", "WER")
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
            image=preview_jpeg(row["image"]["bytes"]),
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

    def card_description(self, options: CapOptions, report: RunReport) -> str:
        asr_model, llm_model = self.models(options)
        checks, settings = options.checks, options.settings
        return (
            "Images described aloud by annotators, transcribed by Whisper and rewritten by a text-only LLM into "
            "one dense caption, following PixMo-Cap (columns `image_url`, `caption`, `transcripts`). "
            f"ASR: `{asr_model}` (faster-whisper, temperature 0, word timestamps). LLM: `{llm_model}` "
            f"({options.llm_backend}), prompts `{PROMPTS_VERSION}`: remove fillers and false starts, keep every visual "
            "detail, never invent.\n\n"
            "Each row keeps every usable recording: its transcript, its own caption (`transcript_captions`), and "
            "its receipt in `audio` (path, sha256, seconds, detected language, words with timestamps, and the word "
            "error rate against `reference_text` when the manifest gives one). With several recordings, `caption` "
            "is a merged caption written from all transcripts (when the merged caption fails its checks, the longest "
            "passing caption of one recording stands in, named in `provenance.details.caption_source`); with one, it "
            "is that transcript's caption. "
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
