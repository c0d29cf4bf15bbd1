"""PixMo-Cap rows: transcripts of spoken descriptions and the dense caption written from them."""

from typing import Any

import pyarrow as pa

from schemas.common import check_image, check_row, make_schema

SCHEMA_VERSION = "0.1.0"

AUDIO = pa.struct(
    [pa.field("path", pa.string()), pa.field("sha256", pa.string()), pa.field("seconds", pa.float64())]
)

SCHEMA = make_schema(
    [
        # Published pixmo-cap columns.
        pa.field("image_url", pa.string()),
        pa.field("caption", pa.string()),
        pa.field("transcripts", pa.list_(pa.string())),
        # Ours: each transcript's own caption, the audio receipts, the caption length for Molmo's hint.
        pa.field("transcript_captions", pa.list_(pa.string())),
        pa.field("audio", pa.list_(AUDIO)),
        pa.field("caption_chars", pa.int64()),
    ],
    SCHEMA_VERSION,
)


def validate(row: dict[str, Any]) -> list[str]:
    problems = check_row(row, SCHEMA)
    if problems:
        return problems
    problems += check_image(row)
    if not row["caption"].strip():
        problems.append("caption is empty")
    if not row["transcripts"]:
        problems.append("no transcripts")
    if row["caption_chars"] != len(row["caption"]):
        problems.append("caption_chars differs from the caption's length")
    return problems
