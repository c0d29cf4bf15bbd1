"""Read a Cap manifest: one image and its recordings per record (annotation.exports.CapRecord).

Formats, by extension:
- `.jsonl`: CapRecord objects, as the annotation app exports them (EXPORT/cap_manifest.jsonl);
- `.csv` / `.tsv`: columns image, audio (required), record_id, image_url, reference_texts, annotators (optional);
  list columns hold a JSON list or `|`-separated values;
- `.parquet`: the same columns, list columns as lists (or strings, read as in CSV).

Relative paths are relative to the manifest's folder; absolute paths, gs:// paths and URLs stay as they are.
Pipelines read the file through Beam's FileSystems (the `read` argument), so a manifest on gs:// works. A record
without `record_id` gets a stable one from its image and audio references. Every bad record is reported with
its line, never skipped silently; a manifest that cannot be read at all raises ManifestError.
"""

import csv
import hashlib
import io
import json
import posixpath
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from annotation.exports import CapRecord, from_dict

FORMATS = (".jsonl", ".csv", ".tsv", ".parquet")
LIST_FIELDS = ("audio", "reference_texts", "annotators")
REQUIRED = ("image", "audio")


class ManifestError(Exception):
    """The manifest as a whole cannot be read (missing, unknown format, no image/audio columns)."""


def is_remote(ref: str) -> bool:
    return "://" in ref


def resolve(ref: str, base_dir: str) -> str:
    """A reference from a manifest made absolute against the manifest's folder (URLs, gs:// and / unchanged)."""
    if not ref or is_remote(ref) or ref.startswith("/"):
        return ref
    if is_remote(base_dir):
        return base_dir.rstrip("/") + "/" + ref
    return posixpath.normpath(posixpath.join(base_dir, ref))


def derived_record_id(image: str, audio: list[str]) -> str:
    return "cap-" + hashlib.sha256("\n".join([image, *audio]).encode()).hexdigest()[:16]


def split_list(value: Any) -> list[str]:
    """A list column's value: a list, a JSON list, or `|`-separated text."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value).strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"not a JSON list: {error}") from None
        if not isinstance(parsed, list):
            raise ValueError("not a JSON list")
        return [str(v).strip() for v in parsed if str(v).strip()]
    return [part.strip() for part in text.split("|") if part.strip()]


def record_from_fields(data: dict[str, Any]) -> CapRecord:
    """A CSV/Parquet row -> CapRecord (raises ValueError naming what is wrong)."""
    values: dict[str, Any] = {k: v for k, v in data.items() if k and v is not None and v != ""}
    for name in LIST_FIELDS:
        if name in values:
            try:
                values[name] = split_list(values[name])
            except ValueError as error:
                raise ValueError(f"column {name}: {error}") from None
    for name in ("record_id", "image", "image_url"):
        if name in values:
            values[name] = str(values[name]).strip()
    if "record_id" not in values:
        values["record_id"] = derived_record_id(values.get("image", ""), values.get("audio", []))
    return record_from_dict(values)


def record_from_dict(values: dict[str, Any]) -> CapRecord:
    """A JSON object or table row -> a checked CapRecord (raises ValueError naming what is missing or wrong)."""
    if not isinstance(values, dict):
        raise ValueError("not a JSON object")
    for name, what in (("record_id", "no record_id"), ("image", "no image"), ("audio", "no audio files")):
        if not values.get(name):
            raise ValueError(what)
    return check_record(from_dict(CapRecord, values))


def check_record(record: CapRecord) -> CapRecord:
    """Raise ValueError for a record no pipeline could use."""
    if not isinstance(record.image, str) or not record.image.strip():
        raise ValueError("no image")
    if not isinstance(record.audio, list) or not record.audio:
        raise ValueError("no audio files")
    if not all(isinstance(a, str) and a.strip() for a in record.audio):
        raise ValueError("an audio reference is empty or not a string")
    if len(set(record.audio)) != len(record.audio):
        raise ValueError("the same audio file is listed twice")
    if record.reference_texts and len(record.reference_texts) != len(record.audio):
        raise ValueError(
            f"{len(record.reference_texts)} reference texts for {len(record.audio)} audio files (give one per audio)"
        )
    if not isinstance(record.record_id, str) or not record.record_id.strip():
        raise ValueError("record_id must be a non-empty string")
    return record


def parse_manifest(data: bytes, name: str) -> list[tuple[int, CapRecord | ValueError]]:
    """Manifest bytes -> (line or row number, record or the problem) in file order; paths not yet resolved."""
    lower = name.lower()
    if lower.endswith(".jsonl"):
        return _parse_jsonl(data, name)
    if lower.endswith((".csv", ".tsv")):
        return _parse_csv(data, name, "\t" if lower.endswith(".tsv") else ",")
    if lower.endswith(".parquet"):
        return _parse_parquet(data, name)
    raise ManifestError(f"{name}: unknown manifest format (use {', '.join(FORMATS)})")


def _checked(number: int, name: str, make) -> tuple[int, CapRecord | ValueError]:
    try:
        return number, make()
    except (ValueError, TypeError) as error:
        return number, ValueError(f"{posixpath.basename(name)} line {number}: {error}")


def _parse_jsonl(data: bytes, name: str) -> list[tuple[int, CapRecord | ValueError]]:
    out = []
    for number, line in enumerate(data.decode("utf-8-sig").splitlines(), start=1):
        if line.strip():
            out.append(_checked(number, name, lambda line=line: record_from_dict(json.loads(line))))
    return out


def _check_columns(columns: list[str], name: str) -> None:
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ManifestError(f"{name}: no {' or '.join(missing)} column (it has: {', '.join(columns) or 'none'})")


def _parse_csv(data: bytes, name: str, delimiter: str) -> list[tuple[int, CapRecord | ValueError]]:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter)
    _check_columns(list(reader.fieldnames or []), name)
    # Line numbers count the header as line 1, as a spreadsheet shows them.
    return [_checked(number, name, lambda row=row: record_from_fields(row)) for number, row in enumerate(reader, 2)]


def _parse_parquet(data: bytes, name: str) -> list[tuple[int, CapRecord | ValueError]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as error:
        raise ManifestError(f"{name}: not a readable Parquet file: {error}") from None
    _check_columns(table.column_names, name)
    return [_checked(number, name, lambda row=row: record_from_fields(row)) for number, row in
            enumerate(table.to_pylist(), 1)]  # fmt: skip


def read_local(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def read_manifest(path: str, read: Callable[[str], bytes] = read_local) -> list[tuple[int, CapRecord | ValueError]]:
    """Read and parse a manifest; paths in the records come back resolved against its folder. Pipelines pass
    `read` = a Beam FileSystems reader, so gs:// manifests work (this module stays free of Beam)."""
    if not path.lower().endswith(FORMATS):
        raise ManifestError(f"{path}: unknown manifest format (use {', '.join(FORMATS)})")
    try:
        data = read(path)
    except Exception as error:
        raise ManifestError(f"{path}: cannot read the manifest: {type(error).__name__}: {error}") from None
    base = path.rsplit("/", 1)[0] if is_remote(path) else posixpath.dirname(posixpath.abspath(path))
    return [
        (number, item if isinstance(item, ValueError) else resolve_paths(item, base))
        for number, item in parse_manifest(data, path)
    ]


def resolve_paths(record: CapRecord, base_dir: str) -> CapRecord:
    return replace(record, image=resolve(record.image, base_dir), audio=[resolve(a, base_dir) for a in record.audio])
