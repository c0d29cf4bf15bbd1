"""PixMo-Cap rows: transcripts of spoken descriptions of an image and the dense caption written from them.

Published pixmo-cap columns first (image_url, caption, transcripts), then ours: each transcript's own caption,
the recordings as receipts (path, sha256, seconds) with what ASR heard (words with timestamps, language), the
caption's length for Molmo's length hint (`long_caption N:` with N from the character count), and the models.
`transcripts`, `transcript_captions` and `audio` are parallel lists, one entry per kept recording.
"""

from typing import Any

import pyarrow as pa

from schemas.common import check_image, check_row, make_schema

SCHEMA_VERSION = "0.2.0"

WORD = pa.struct(
    [
        pa.field("word", pa.string()),
        pa.field("start", pa.float64()),  # seconds from the start of the recording
        pa.field("end", pa.float64()),
        pa.field("probability", pa.float64()),
    ]
)

AUDIO = pa.struct(
    [
        pa.field("path", pa.string()),  # the recording as the manifest named it (resolved)
        pa.field("sha256", pa.string()),  # of the recording's bytes
        pa.field("seconds", pa.float64()),
        pa.field("language", pa.string()),  # detected (English-only models always say "en")
        pa.field("language_probability", pa.float64()),
        pa.field("words", pa.list_(WORD)),
        pa.field("reference_text", pa.string()),  # what was said, when the manifest knows it ("" otherwise)
        pa.field("wer", pa.float64()),  # word error rate of the transcript against reference_text; null without one
        pa.field("annotator", pa.string()),
    ]
)

SCHEMA = make_schema(
    [
        # Published pixmo-cap columns.
        pa.field("image_url", pa.string()),
        pa.field("caption", pa.string()),
        pa.field("transcripts", pa.list_(pa.string())),
        # Ours. transcript_captions[i] is the LLM's caption of transcripts[i] alone ("" when it was rejected; the
        # reason is in _rejected/). With one transcript, caption == transcript_captions[0].
        pa.field("transcript_captions", pa.list_(pa.string())),
        pa.field("audio", pa.list_(AUDIO)),
        pa.field("caption_chars", pa.int64()),  # len(caption): the trainer builds Molmo's length hint from it
        pa.field("caption_words", pa.int64()),
        pa.field("record_id", pa.string()),  # the manifest's (annotation app's) id for this image
        pa.field("asr_model", pa.string()),
        pa.field("llm_model", pa.string()),
    ],
    SCHEMA_VERSION,
)


def build_row(**values: Any) -> dict[str, Any]:
    """A row with every column, in schema order (missing columns are a bug: KeyError)."""
    return {name: values[name] for name in SCHEMA.names}


def validate(row: dict[str, Any]) -> list[str]:
    problems = check_row(row, SCHEMA)
    if problems:
        return problems
    problems += check_image(row)
    caption, transcripts, captions, audio = row["caption"], row["transcripts"], row["transcript_captions"], row["audio"]
    if not caption.strip():
        problems.append("caption is empty")
    if not transcripts:
        problems.append("no transcripts")
    if any(not t.strip() for t in transcripts):
        problems.append("a transcript is empty")
    if not (len(transcripts) == len(captions) == len(audio)):
        problems.append(f"{len(transcripts)} transcripts, {len(captions)} transcript captions, {len(audio)} audio")
    elif len(transcripts) == 1 and captions[0] != caption:
        problems.append("with one transcript, caption must be its transcript caption")
    if row["caption_chars"] != len(caption):
        problems.append("caption_chars differs from the caption's length")
    if row["caption_words"] != len(caption.split()):
        problems.append("caption_words differs from the caption's word count")
    if not row["asr_model"] or not row["llm_model"]:
        problems.append("asr_model and llm_model must be named")
    for i, item in enumerate(audio):
        if not item["path"] or not item["sha256"]:
            problems.append(f"audio[{i}]: no path or sha256")
        if item["seconds"] is None or item["seconds"] <= 0:
            problems.append(f"audio[{i}]: seconds must be positive")
        if (item["wer"] is None) != (not item["reference_text"]):
            problems.append(f"audio[{i}]: wer must be given exactly when there is a reference text")
        if item["wer"] is not None and item["wer"] < 0:
            problems.append(f"audio[{i}]: negative wer")
        for j, word in enumerate(item["words"]):
            if not 0 <= word["start"] <= word["end"]:
                problems.append(f"audio[{i}].words[{j}]: start/end out of order")
                break
    return problems
