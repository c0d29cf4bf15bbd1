"""Reading an annotation app export (annotation/exports.py) into Beam: records checked, deduplicated by
record_id, and joined to their images (read and decoded once per image). Shared by the Points and AMA pipelines.

    RECORDS.jsonl ─ ReadLines ─ Reshuffle ─ Parse + check ─ GroupBy record_id (first line kept)
      ─ GroupBy image ─ read + decode the image once ─ rows (a subset's row builder)
Stages of its dead letters: input, parse, check, duplicate, image.
"""

import argparse
import dataclasses
import io
import json
import os
import posixpath
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from PIL import Image

from annotation import exports
from media import DecodeConfig, FetchConfig, MediaError, decode_image, fetch_url, sha256_hex
from pipelines.common.image_source import REJECTS, example_id_for, is_url, read_capped
from pipelines.common.rejects import rejected
from pipelines.common.splits import SplitSpec
from pipelines.common.staging import join


def export_paths(spec: str, records_file: str) -> tuple[str, str]:
    """(records file, export folder) for `--input`: the export folder or the records file itself."""
    spec = spec.rstrip("/")
    if spec.lower().endswith(".jsonl"):
        return spec, posixpath.dirname(spec) if "://" in spec else os.path.dirname(os.path.abspath(spec))
    folder = spec if "://" in spec else os.path.abspath(spec)
    return join(folder, records_file), folder


def input_problems(spec: str | None, records_file: str, subset: str) -> list[str]:
    """What is wrong with `--input`, checked before any work (local paths only; gs:// is checked by the job)."""
    if not spec:
        return [f"{subset} needs --input EXPORT: the annotation app's export folder (or its {records_file})"]
    records, _ = export_paths(spec, records_file)
    if "://" in records:
        return []
    if not os.path.exists(spec):
        return [f"--input {spec!r} does not exist"]
    if not os.path.isfile(records):
        return [f"--input {spec!r}: no {records_file} in it (is it an annotation export folder?)"]
    return []


def resolve_image(export_dir: str, ref: str) -> str:
    """A record's image reference as a readable path/URL: URLs and absolute paths as they are, the rest relative
    to the export folder (and never outside it)."""
    if is_url(ref) or "://" in ref:
        return ref
    if os.path.isabs(ref):
        return ref
    if "://" in export_dir:
        path = posixpath.normpath(posixpath.join(export_dir.split("://", 1)[1], ref))
        root = posixpath.normpath(export_dir.split("://", 1)[1])
        resolved = export_dir.split("://", 1)[0] + "://" + path
    else:
        path = os.path.normpath(os.path.join(export_dir, ref))
        root = os.path.normpath(export_dir)
        resolved = path
    if path != root and not path.startswith(root.rstrip("/") + "/"):
        raise ValueError(f"image path {ref!r} leaves the export folder")
    return resolved


@dataclass
class ExportImage:
    """One decoded image a group of records refers to."""

    key: str  # the resolved path or URL
    data: bytes  # what rows store (media/decode.py: original bytes, or a re-encode after normalisation)
    mime: str
    width: int
    height: int
    sha256: str
    changes: list[str] = field(default_factory=list)

    @property
    def extension(self) -> str:
        return "jpg" if self.mime == "image/jpeg" else "png"


def load_image(ref: str, fetch: FetchConfig, decode: DecodeConfig) -> ExportImage:
    """Read (path, gs://, URL) and decode one image; MediaError with the reason when it cannot be used."""
    try:
        data = fetch_url(ref, fetch).data if is_url(ref) else read_capped(ref, fetch.max_bytes)
    except MediaError:
        raise
    except Exception as error:  # missing file, permissions, filesystem errors
        raise MediaError(f"cannot read the image: {type(error).__name__}: {error}") from None
    decoded = decode_image(data, decode)
    return ExportImage(
        ref, decoded.data, decoded.mime, decoded.width, decoded.height, sha256_hex(decoded.data), decoded.changes
    )


class _ReadLines(beam.DoFn):
    """Records file -> (line number, text) per non-blank line; an unreadable file is one dead letter."""

    def __init__(self, subset: str) -> None:
        self.subset = subset

    def process(self, path: str) -> Iterator[Any]:
        try:
            with FileSystems.open(path) as handle:
                text = handle.read().decode("utf-8")
        except Exception as error:
            yield beam.pvalue.TaggedOutput(
                REJECTS, rejected(self.subset, path, "input", f"cannot read: {type(error).__name__}: {error}")
            )
            return
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield number, line


class _ParseRecords(beam.DoFn):
    """(line, text) -> (record_id, (line, record)), or a dead letter: bad JSON/keys (parse), unusable (check)."""

    def __init__(self, subset: str, path: str, cls: type, problems: Callable[[Any], list[str]]) -> None:
        self.subset = subset
        self.path = path
        self.cls = cls
        self.problems = problems

    def process(self, element: tuple[int, str]) -> Iterator[Any]:
        number, line = element
        ref = f"{self.path}:{number}"
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError(f"expected a JSON object, got {type(data).__name__}")
            record = exports.from_dict(self.cls, data)
        except (ValueError, TypeError) as error:
            yield beam.pvalue.TaggedOutput(REJECTS, rejected(self.subset, ref, "parse", f"line {number}: {error}"))
            return
        problems = self.problems(record)
        if problems:
            reason = "; ".join(problems)
            yield beam.pvalue.TaggedOutput(
                REJECTS, rejected(self.subset, ref, "check", reason, record=dataclasses.asdict(record))
            )
            return
        yield record.record_id, (number, record)


class _KeepFirstOfRecord(beam.DoFn):
    """A record_id on several lines: the first line is kept, the others are dead letters."""

    def __init__(self, subset: str, path: str, export_dir: str) -> None:
        self.subset = subset
        self.path = path
        self.export_dir = export_dir

    def process(self, element: tuple[str, Iterable[tuple[int, Any]]]) -> Iterator[Any]:
        record_id, members = element
        ordered = sorted(members, key=lambda m: m[0])
        first_line, record = ordered[0]
        for number, _ in ordered[1:]:
            yield beam.pvalue.TaggedOutput(
                REJECTS,
                rejected(
                    self.subset,
                    f"{self.path}:{number}",
                    "duplicate",
                    f"duplicate record_id {record_id!r} (kept line {first_line})",
                    record_id=record_id,
                ),
            )
        try:
            image_ref = resolve_image(self.export_dir, record.image)
        except ValueError as error:
            yield beam.pvalue.TaggedOutput(
                REJECTS, rejected(self.subset, f"{self.path}:{first_line}", "check", str(error), record_id=record_id)
            )
            return
        yield image_ref, (first_line, record)


class ReadExportRecords(beam.PTransform):
    """The records of one export file, de-duplicated by record_id and keyed by their resolved image.

    Outputs: "records" ((image ref, (line, record)) pairs) and REJECTS.
    """

    def __init__(self, subset: str, records_path: str, export_dir: str, cls: type, problems: Callable) -> None:
        super().__init__()
        self.subset = subset
        self.records_path = records_path
        self.export_dir = export_dir
        self.cls = cls
        self.problems = problems

    def expand(self, pbegin):  # no type hints: Beam would try to read them as element types
        subset, path = self.subset, self.records_path
        lines = (
            pbegin
            | "RecordsFile" >> beam.Create([path])
            | "ReadLines" >> beam.ParDo(_ReadLines(subset)).with_outputs(REJECTS, main="lines")
        )
        parsed = (
            lines.lines
            | "Spread" >> beam.Reshuffle()
            | "Parse"
            >> beam.ParDo(_ParseRecords(subset, path, self.cls, self.problems)).with_outputs(REJECTS, main="records")
        )
        unique = (
            parsed.records
            | "GroupByRecordId" >> beam.GroupByKey()
            | "KeepFirst"
            >> beam.ParDo(_KeepFirstOfRecord(subset, path, self.export_dir)).with_outputs(REJECTS, main="records")
        )
        rejects = (lines[REJECTS], parsed[REJECTS], unique[REJECTS]) | "ReadRejects" >> beam.Flatten()
        return {"records": unique.records, REJECTS: rejects}


class RowsFromImages(beam.DoFn):
    """(image ref, [(line, record)]) -> (split, row) per record, the image read and decoded once for all of them.

    `make_row(record, image, example_id)` builds the row; the split is a stable hash of the image's sha256 (so
    every record of one image lands in one split) salted with the subset and seed.
    """

    def __init__(
        self,
        subset: str,
        records_path: str,
        make_row: Callable[[Any, ExportImage, str], dict[str, Any]],
        validate: Callable[[dict[str, Any]], list[str]],
        splits: str,
        seed: int,
        fetch: FetchConfig,
        decode: DecodeConfig,
    ) -> None:
        self.subset = subset
        self.records_path = records_path
        self.make_row = make_row
        self.validate = validate
        self.splits = splits
        self.seed = seed
        self.fetch = fetch
        self.decode = decode

    def process(self, element: tuple[str, Iterable[tuple[int, Any]]]) -> Iterator[Any]:
        ref, members = element
        members = sorted(members, key=lambda m: m[0])
        try:
            image = load_image(ref, self.fetch, self.decode)
        except MediaError as error:
            for number, record in members:
                yield beam.pvalue.TaggedOutput(
                    REJECTS,
                    rejected(
                        self.subset,
                        f"{self.records_path}:{number}",
                        "image",
                        f"{error.reason} ({ref})",
                        record_id=record.record_id,
                        image=ref,
                    ),
                )
            return
        split = SplitSpec.parse(self.splits).split_for_key(image.sha256, salt=f"{self.subset}:{self.seed}")
        for number, record in members:
            row = self.make_row(record, image, example_id_for(self.subset, record.record_id))
            problems = self.validate(row)
            if problems:
                yield beam.pvalue.TaggedOutput(
                    REJECTS,
                    rejected(
                        self.subset,
                        f"{self.records_path}:{number}",
                        "validate",
                        "; ".join(problems),
                        record_id=record.record_id,
                    ),
                )
                continue
            yield split, row


def add_export_arguments(parser: argparse.ArgumentParser, records_file: str) -> None:
    parser.add_argument(
        "--input",
        metavar="EXPORT",
        help=f"The annotation app's export folder (local or gs://), or its {records_file}. Image paths in "
        "records are relative to the export folder (absolute paths and http(s) URLs work too).",
    )
    parser.add_argument(
        "--max-image-bytes", type=int, default=32 * 1024 * 1024, help="Size cap per image (default: 32 MiB)."
    )
    parser.add_argument(
        "--max-image-pixels",
        type=int,
        default=64_000_000,
        help="Pixel cap per image; bigger ones are refused as decompression bombs (default: 64e6).",
    )
    parser.add_argument(
        "--download-timeout", type=float, default=10.0, help="Seconds per socket operation for URLs (default: 10)."
    )


def export_configs(args: argparse.Namespace) -> tuple[FetchConfig, DecodeConfig]:
    fetch = FetchConfig(timeout_s=args.download_timeout, max_bytes=args.max_image_bytes)
    return fetch, DecodeConfig(max_pixels=args.max_image_pixels)


def check_export_arguments(args: argparse.Namespace, records_file: str, subset: str) -> list[str]:
    problems = input_problems(args.input, records_file, subset)
    if args.num_examples is not None:
        problems.append(f"--num-examples does not apply to {subset}: the export decides how many examples there are")
    try:
        if SplitSpec.parse(args.splits).exact:
            problems.append(f"--splits: {subset} splits by image hash, so give fractions (e.g. train=0.9,test=0.1)")
    except ValueError:
        pass  # reported by the common checks
    fetch, decode = export_configs(args)
    return problems + fetch.validate() + decode.validate()


def image_source(image: ExportImage) -> str:
    return "url" if is_url(image.key) else "file"


def thumbnail(data: bytes, max_side: int = 640) -> Image.Image:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    scale = min(1.0, max_side / max(image.size))
    if scale < 1.0:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR)
    return image


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()
