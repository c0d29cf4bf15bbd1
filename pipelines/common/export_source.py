"""Reading an annotation app export (annotation/exports.py) on the record-flow skeleton: Points and AMA.

    RECORDS.jsonl ─ (driver) parse + check each line, resolve its image ─ InputRefs grouped by image
      ─ input shards ─ ReadExportImages (each image read and decoded once per shard) ─ rows (the subset's builder)
Stages of its dead letters: input, parse, check, duplicate, image. Every line becomes a row or a dead letter.
"""

import argparse
import dataclasses
import json
import os
import posixpath
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from apache_beam.io.filesystems import FileSystems

from annotation import exports
from media import DecodeConfig, FetchConfig, MediaError
from media.urls import redact
from pipelines.common.input_plan import InputRef, Listing
from pipelines.common.listing import example_id_for
from pipelines.common.media_loader import LoadedImage, add_image_limit_arguments, is_url, load_for_refs
from pipelines.common.record_flow import CommonOptions, Reader, Record, RecordSubset
from pipelines.common.rejects import Rejected, rejected
from pipelines.common.splits import SplitSpec
from pipelines.common.staging import join
from pipelines.common.version import code_version


def export_paths(spec: str, records_file: str) -> tuple[str, str]:
    """(records file, export folder) for `--input`: the export folder or the records file itself."""
    spec = spec.rstrip("/")
    if spec.lower().endswith(".jsonl"):
        return spec, posixpath.dirname(spec) if "://" in spec else os.path.dirname(os.path.abspath(spec))
    folder = spec if "://" in spec else os.path.abspath(spec)
    return join(folder, records_file), folder


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


@dataclass(frozen=True)
class ExportOptions(CommonOptions):
    records_path: str
    export_dir: str
    fetch: FetchConfig
    decode: DecodeConfig


@dataclass(frozen=True)
class ExportLine:
    """One usable record of the export, with its line number and resolved image (an InputRef's payload)."""

    line: int
    record: Any
    image: str


def list_export_records(
    subset: str, records_path: str, export_dir: str, cls: type, problems: Callable[[Any], list[str]]
) -> Listing:
    """Every non-blank line of the records file -> an InputRef keyed by record_id and grouped by image, or a
    dead letter: unreadable file (input), bad JSON or keys (parse), unusable record or image path (check)."""
    try:
        with FileSystems.open(records_path) as handle:
            text = handle.read().decode("utf-8")
    except Exception as error:  # noqa: BLE001 - unreadable file: one dead letter, said as it is
        reason = f"cannot read: {type(error).__name__}: {error}"
        return Listing((), (rejected(subset, records_path, "input", reason),))
    refs: list[InputRef] = []
    rejects: list[Rejected] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{records_path}:{number}"
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError(f"expected a JSON object, got {type(data).__name__}")
            record = exports.from_dict(cls, data)
        except (ValueError, TypeError) as error:
            rejects.append(rejected(subset, where, "parse", f"line {number}: {error}"))
            continue
        found = problems(record)
        if found:
            rejects.append(rejected(subset, where, "check", "; ".join(found), record=dataclasses.asdict(record)))
            continue
        try:
            image = resolve_image(export_dir, record.image)
        except ValueError as error:
            rejects.append(rejected(subset, where, "check", str(error), record_id=record.record_id))
            continue
        refs.append(InputRef(record.record_id, where, ExportLine(number, record, image), group=image))
    return Listing(tuple(refs), tuple(rejects))


def duplicate_record(subset: str, first: InputRef, other: InputRef) -> Rejected:
    reason = f"duplicate record_id {other.key!r} (kept line {first.payload.line})"
    return rejected(subset, other.where, "duplicate", reason, record_id=other.key)


class ReadExportImages(Reader):
    """A shard's records -> Records with their image, each image read and decoded once (per-host limits)."""

    stage = "image"

    def __init__(self, subset: str, options: ExportOptions) -> None:
        super().__init__(subset)
        self.options = options

    def read(self, refs: Sequence[InputRef]) -> Iterator[tuple[InputRef, Record | Rejected]]:
        o = self.options
        for ref, image, loaded in load_for_refs(refs, lambda r: r.payload.image, o.fetch, o.decode):
            if isinstance(loaded, MediaError):
                reason = f"{loaded.reason} ({redact(image)})"
                yield ref, self.rejected(ref.where, reason, record_id=ref.key, image=redact(image))
            else:
                record = ref.payload.record
                yield ref, Record(ref.key, ref.where, example_id_for(self.subset, ref.key), record, loaded)


def split_by_image(subset: str, options: CommonOptions, image_sha256: str) -> str:
    """Every record of one image in one split: a stable hash of the image's sha256, salted by subset and seed."""
    return SplitSpec.parse(options.splits).split_for_key(image_sha256, salt=f"{subset}:{options.seed}")


def add_export_arguments(parser: argparse.ArgumentParser, records_file: str) -> None:
    parser.add_argument(
        "--input",
        metavar="EXPORT",
        help=f"The annotation app's export folder (local or gs://), or its {records_file}. Image paths in "
        "records are relative to the export folder (absolute paths and http(s) URLs work too).",
    )
    add_image_limit_arguments(parser)
    parser.add_argument(
        "--download-timeout", type=float, default=10.0, help="Seconds per socket operation for URLs (default: 10)."
    )


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


def parse_export_options(
    args: argparse.Namespace, records_file: str, subset: str, code_version: str
) -> tuple[ExportOptions | None, list[str]]:
    problems = input_problems(args.input, records_file, subset)
    if args.num_examples is not None:
        problems.append(f"--num-examples does not apply to {subset}: the export decides how many examples there are")
    try:
        if SplitSpec.parse(args.splits).exact:
            problems.append(f"--splits: {subset} splits by image hash, so give fractions (e.g. train=0.9,test=0.1)")
    except ValueError:
        pass  # reported by the common checks
    fetch = FetchConfig(timeout_s=args.download_timeout, max_bytes=args.max_image_bytes)
    decode = DecodeConfig(max_pixels=args.max_image_pixels)
    problems += fetch.validate() + decode.validate()
    if problems:
        return None, problems
    records_path, export_dir = export_paths(args.input, records_file)
    options = ExportOptions(args.splits, args.seed, code_version, records_path, export_dir, fetch, decode)
    return options, []


class ExportSubset(RecordSubset):
    """A subset whose inputs are one records file of an annotation export (Points, AMA): everything but the row
    and the reports is this. Set `records_file`, `record_cls`; implement `problems` and `make_row`."""

    default_num_examples = None  # the export decides
    requires_input = True  # an annotation export; there is no embedded default
    input_shard_size = 512  # no model: work units are cheap
    records_file: str
    record_cls: type

    def problems(self, record: Any) -> list[str]:
        raise NotImplementedError

    def make_row(self, record: Any, image: LoadedImage, example_id: str, options: ExportOptions) -> dict[str, Any]:
        raise NotImplementedError

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_export_arguments(parser, self.records_file)

    def parse(self, args: argparse.Namespace, dry_run: bool = False) -> tuple[ExportOptions | None, list[str]]:
        return parse_export_options(args, self.records_file, self.name, code_version())

    def fingerprint(self, options: ExportOptions) -> dict[str, Any]:
        return {"input": options.records_path}

    def list_inputs(self, options: ExportOptions) -> Listing:
        return list_export_records(self.name, options.records_path, options.export_dir, self.record_cls, self.problems)

    def duplicate_rejected(self, first: InputRef, other: InputRef) -> Rejected:
        return duplicate_record(self.name, first, other)

    def reader(self, options: ExportOptions) -> Reader:
        return ReadExportImages(self.name, options)

    def build_row(self, record: Record, options: ExportOptions) -> dict[str, Any]:
        assert record.image is not None
        return self.make_row(record.data, record.image, record.example_id, options)

    def split_of(self, row: dict[str, Any], record: Record, options: ExportOptions) -> str:
        return split_by_image(self.name, options, row["image_sha256"])


def image_source(key: str) -> str:
    return "url" if is_url(key) else "file"
