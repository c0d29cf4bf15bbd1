"""ReadImages: real images into a pipeline (Count now; Cap, AMA and Points later), failures as dead letters.

    inputs ─ Expand ─ CountListings ─┬─ refs ─ Reshuffle ─ Batch ─ Fetch ─ Decode ─┬─ DropDuplicates ─ images
                                     └─ listed twice ──────────────────────────────┴──────────────────── rejects

An input is a local folder (searched recursively), a glob, a file, a gs:// prefix/glob/file, an http(s) URL,
or a URL list (img2dataset style: .csv/.tsv with a `url` or `image_url` column, .parquet with one, or .txt
with one URL a line). Downloads and decoding use `media/` (timeouts, retries, caps, safe decoding); every
image that does not come out is a `Rejected` record with its stage (input, download, decode, dedup).

Duplicates are dropped deterministically with Beam grouping, never a global set: exact copies (sha256 of
the stored bytes) by grouping on the digest, near copies (perceptual hash within `near_duplicate_distance`
bits) by grouping on hash bands (see media/dedup.py). In each group the smallest key (the input path or URL)
is kept; the others become dead letters "exact/near duplicate of KEY". Only keys and hashes are shuffled;
the verdicts are joined back to the images by key.
"""

import csv
import hashlib
import io
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from media import DecodeConfig, FetchConfig, MediaError, decode_image, fetch_url, perceptual_hash, sha256_hex
from media.dedup import first_duplicate_of, near_duplicate_bands
from pipelines.common.rejects import Rejected, rejected

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".mpo")
URL_LIST_EXTENSIONS = (".csv", ".tsv", ".parquet", ".txt")
URL_COLUMNS = ("url", "image_url", "URL")
REJECTS = "rejects"


@dataclass(frozen=True)
class ImageSourceConfig:
    inputs: tuple[str, ...]
    id_prefix: str  # example ids are PREFIX-<16 hex of sha256(key)>
    url_column: str | None = None  # None: the first of URL_COLUMNS a list has
    fetch: FetchConfig = FetchConfig()
    decode: DecodeConfig = DecodeConfig()
    near_duplicate_distance: int = 4  # bits of the 64-bit pHash; -1 turns near-duplicate removal off
    download_threads: int = 16

    def validate(self) -> list[str]:
        problems = self.fetch.validate() + self.decode.validate()
        if not self.inputs:
            problems.append("no inputs")
        if not -1 <= self.near_duplicate_distance <= 16:
            problems.append("near-duplicate distance must be -1 (off) to 16 bits")
        if self.download_threads < 1:
            problems.append("download threads must be at least 1")
        for spec in self.inputs:
            if "://" not in spec and not any(c in spec for c in "*?[") and not os.path.exists(spec):
                problems.append(f"input {spec!r} does not exist")
        return problems


@dataclass
class ImageRecord:
    """One decoded, normalised image; `data` is what a row stores (see media/decode.py)."""

    key: str  # the input path or URL
    example_id: str
    data: bytes
    mime: str
    width: int
    height: int
    sha256: str
    phash: str
    source_format: str
    changes: list[str] = field(default_factory=list)

    @property
    def extension(self) -> str:
        return "jpg" if self.mime == "image/jpeg" else "png"


def example_id_for(prefix: str, key: str) -> str:
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def is_url(ref: str) -> bool:
    return ref.lower().startswith(("http://", "https://"))


def expand_input(spec: str, url_column: str | None = None) -> list[str]:
    """The image references one input names: paths or URLs, sorted (raises ValueError for a bad list)."""
    if is_url(spec):
        return [spec]
    lower = spec.lower()
    if lower.endswith(URL_LIST_EXTENSIONS):
        return _read_url_list(spec, url_column)
    if any(c in spec for c in "*?["):
        pattern = spec
    elif ("://" not in spec and os.path.isdir(spec)) or ("://" in spec and spec.endswith("/")):
        pattern = spec.rstrip("/") + "/**"
    else:
        pattern = spec
    paths = [m.path for m in FileSystems.match([pattern])[0].metadata_list]
    if not paths and pattern == spec and "://" in spec:  # gs://bucket/folder without the trailing slash
        pattern = spec + "/**"
        paths = [m.path for m in FileSystems.match([pattern])[0].metadata_list]
    if pattern != spec or len(paths) != 1 or paths[0] != spec:
        paths = [p for p in paths if p.lower().endswith(IMAGE_EXTENSIONS)]
    return sorted(paths)


def _read_url_list(spec: str, url_column: str | None) -> list[str]:
    with FileSystems.open(spec) as handle:
        data = handle.read()
    lower = spec.lower()
    if lower.endswith(".txt"):
        urls = [line.strip() for line in data.decode("utf-8").splitlines()]
        return [u for u in urls if u and not u.startswith("#")]
    if lower.endswith(".parquet"):
        table = pq.read_table(io.BytesIO(data))
        column = _url_column(table.column_names, url_column, spec)
        return [u for u in table.column(column).to_pylist() if u]
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter="\t" if lower.endswith(".tsv") else ",")
    column = _url_column(reader.fieldnames or [], url_column, spec)
    return [row[column].strip() for row in reader if row.get(column) and row[column].strip()]


def _url_column(names: list[str], wanted: str | None, spec: str) -> str:
    candidates = [wanted] if wanted else list(URL_COLUMNS)
    for name in candidates:
        if name in names:
            return name
    raise ValueError(f"{spec}: no URL column (looked for {', '.join(candidates)}; it has {', '.join(names)})")


def read_capped(path: str, max_bytes: int) -> bytes:
    """A file through Beam's FileSystems (local, gs://, ...), refused when it is over `max_bytes`."""
    with FileSystems.open(path) as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise MediaError(f"too large: more than the {max_bytes}-byte cap")
    return data


class ExpandInputs(beam.DoFn):
    """Input spec -> image references; a spec that names nothing, or can't be read, is a dead letter."""

    def __init__(self, subset: str, url_column: str | None) -> None:
        self.subset = subset
        self.url_column = url_column

    def process(self, spec: str) -> Iterator[Any]:
        try:
            refs = expand_input(spec, self.url_column)
        except Exception as error:
            yield beam.pvalue.TaggedOutput(
                REJECTS, rejected(self.subset, spec, "input", f"cannot list input: {type(error).__name__}: {error}")
            )
            return
        if not refs:
            yield beam.pvalue.TaggedOutput(REJECTS, rejected(self.subset, spec, "input", "input names no images"))
        yield from refs


class KeepFirstListing(beam.DoFn):
    """(ref, times listed) -> the ref once; extra listings (URL lists repeat URLs) are dead letters."""

    def __init__(self, subset: str) -> None:
        self.subset = subset

    def process(self, element: tuple[str, int]) -> Iterator[Any]:
        ref, times = element
        yield ref
        if times > 1:
            yield beam.pvalue.TaggedOutput(
                REJECTS, rejected(self.subset, ref, "input", f"listed {times} times; used once", times=times)
            )


class FetchImages(beam.DoFn):
    """A batch of refs -> (ref, bytes) each, downloaded/read on a thread pool (I/O bound, like img2dataset)."""

    def __init__(self, subset: str, fetch: FetchConfig, threads: int) -> None:
        self.subset = subset
        self.fetch = fetch
        self.threads = threads
        self.pool: ThreadPoolExecutor | None = None

    def setup(self) -> None:
        self.pool = ThreadPoolExecutor(self.threads)

    def teardown(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)

    def _one(self, ref: str) -> tuple[str, bytes | None, Rejected | None]:
        try:
            if is_url(ref):
                return ref, fetch_url(ref, self.fetch).data, None
            return ref, read_capped(ref, self.fetch.max_bytes), None
        except MediaError as error:
            return ref, None, rejected(self.subset, ref, "download", error.reason, **error.details)
        except Exception as error:  # unreadable files, filesystem errors: this image, not the run
            return ref, None, rejected(self.subset, ref, "download", f"{type(error).__name__}: {error}")

    def process(self, refs: list[str]) -> Iterator[Any]:
        if self.pool is None:
            self.setup()
        assert self.pool is not None
        for ref, data, failure in self.pool.map(self._one, refs):
            if failure is not None:
                yield beam.pvalue.TaggedOutput(REJECTS, failure)
            else:
                yield ref, data


class DecodeImages(beam.DoFn):
    """(ref, bytes) -> ImageRecord: safely decoded, normalised, hashed; or a dead letter with the reason."""

    def __init__(self, subset: str, decode: DecodeConfig, id_prefix: str) -> None:
        self.subset = subset
        self.decode = decode
        self.id_prefix = id_prefix

    def process(self, element: tuple[str, bytes]) -> Iterator[Any]:
        ref, data = element
        try:
            decoded = decode_image(data, self.decode)
        except MediaError as error:
            yield beam.pvalue.TaggedOutput(REJECTS, rejected(self.subset, ref, "decode", error.reason, **error.details))
            return
        yield ImageRecord(
            key=ref,
            example_id=example_id_for(self.id_prefix, ref),
            data=decoded.data,
            mime=decoded.mime,
            width=decoded.width,
            height=decoded.height,
            sha256=sha256_hex(decoded.data),
            phash=perceptual_hash(decoded.image),
            source_format=decoded.source_format,
            changes=decoded.changes,
        )


def exact_verdicts(element: tuple[str, Iterable[str]]) -> Iterator[tuple[str, tuple[str, str, int]]]:
    """(sha256, keys) -> (key, (kind, kept key, distance)) for every key but the smallest."""
    _, keys = element
    ordered = sorted(set(keys))
    for key in ordered[1:]:
        yield key, ("exact", ordered[0], 0)


def near_verdicts(max_distance: int):
    def verdicts(element: tuple[str, Iterable[tuple[str, str]]]) -> Iterator[tuple[str, tuple[str, str, int]]]:
        _, members = element
        for key, (kept, distance) in first_duplicate_of(list(members), max_distance).items():
            yield key, ("near", kept, distance)

    return verdicts


class ApplyVerdicts(beam.DoFn):
    """key -> the image, unless some group found it a duplicate: then a dead letter naming the kept image."""

    def __init__(self, subset: str) -> None:
        self.subset = subset

    def process(self, element: tuple[str, dict[str, list[Any]]]) -> Iterator[Any]:
        key, grouped = element
        for record in grouped["image"]:
            exact = sorted(grouped["exact"])
            near = sorted(grouped["near"], key=lambda v: (v[1], v[2]))
            if exact:
                _, kept, _ = exact[0]
                yield beam.pvalue.TaggedOutput(
                    REJECTS,
                    rejected(self.subset, key, "dedup", f"exact duplicate of {kept}", kept=kept, sha256=record.sha256),
                )
            elif near:
                _, kept, distance = near[0]
                yield beam.pvalue.TaggedOutput(
                    REJECTS,
                    rejected(
                        self.subset,
                        key,
                        "dedup",
                        f"near duplicate of {kept} (perceptual hash {distance} bits apart)",
                        kept=kept,
                        distance=distance,
                    ),
                )
            else:
                yield record


class DropDuplicates(beam.PTransform):
    """ImageRecords -> the same minus duplicates (tagged `images`), and dead letters (tagged `rejects`)."""

    def __init__(self, subset: str, near_duplicate_distance: int) -> None:
        super().__init__()
        self.subset = subset
        self.distance = near_duplicate_distance

    def expand(self, records):  # no type hints: Beam would try (and fail) to read them as element types
        keyed = records | "KeyByInput" >> beam.Map(lambda r: (r.key, r))
        exact = (
            records
            | "BySha256" >> beam.Map(lambda r: (r.sha256, r.key))
            | "GroupSha256" >> beam.GroupByKey()
            | "ExactVerdicts" >> beam.FlatMap(exact_verdicts)
        )
        groups: dict[str, beam.PCollection] = {"image": keyed, "exact": exact}
        if self.distance >= 0:
            distance = self.distance
            groups["near"] = (
                records
                | "ByHashBand"
                >> beam.FlatMap(
                    lambda r: [(band, (r.key, r.phash)) for band in near_duplicate_bands(r.phash, distance)]
                )
                | "GroupHashBand" >> beam.GroupByKey()
                | "NearVerdicts" >> beam.FlatMap(near_verdicts(distance))
            )
        else:
            groups["near"] = records.pipeline | "NoNearVerdicts" >> beam.Create([])
        return (
            groups
            | "JoinVerdicts" >> beam.CoGroupByKey()
            | "ApplyVerdicts" >> beam.ParDo(ApplyVerdicts(self.subset)).with_outputs(REJECTS, main="images")
        )


class ReadImages(beam.PTransform):
    """pipeline | ReadImages(config) -> {"images": ImageRecord PCollection, "rejects": Rejected PCollection}."""

    def __init__(self, subset: str, config: ImageSourceConfig) -> None:
        super().__init__()
        self.subset = subset
        self.config = config

    def expand(self, pbegin):  # no type hints: Beam would try (and fail) to read them as element types
        c = self.config
        listed = (
            pbegin
            | "Inputs" >> beam.Create(sorted(set(c.inputs)))
            | "Expand" >> beam.ParDo(ExpandInputs(self.subset, c.url_column)).with_outputs(REJECTS, main="refs")
        )
        once = (
            listed.refs
            | "CountListings" >> beam.combiners.Count.PerElement()
            | "KeepFirstListing" >> beam.ParDo(KeepFirstListing(self.subset)).with_outputs(REJECTS, main="refs")
        )
        fetched = (
            once.refs
            | "Spread" >> beam.Reshuffle()
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=max(1, 2 * c.download_threads))
            | "Fetch"
            >> beam.ParDo(FetchImages(self.subset, c.fetch, c.download_threads)).with_outputs(REJECTS, main="data")
        )
        decoded = fetched.data | "Decode" >> beam.ParDo(DecodeImages(self.subset, c.decode, c.id_prefix)).with_outputs(
            REJECTS, main="images"
        )
        unique = decoded.images | "DropDuplicates" >> DropDuplicates(self.subset, c.near_duplicate_distance)
        rejects = (
            listed[REJECTS],
            once[REJECTS],
            fetched[REJECTS],
            decoded[REJECTS],
            unique[REJECTS],
        ) | "SourceRejects" >> beam.Flatten()
        return {"images": unique.images, "rejects": rejects}
