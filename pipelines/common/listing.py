"""Listing image inputs on the driver: folders, globs, files, gs:// prefixes, URLs and URL lists -> InputRefs.

Every file under an input folder is listed: an image (by extension, or with no extension: the decoder judges
it) becomes an input; any other file is a dead letter "unsupported type .svg", so nothing vanishes. A URL
list (img2dataset style: .csv/.tsv with a `url` or `image_url` column, .parquet with one, .txt with one URL a
line) holds http(s) URLs or object-store URLs of a scheme Beam's FileSystems can read; any other line (a
local path, /etc/passwd, ftp://) is a dead letter "not a URL", so a list never makes the pipeline read local
files. URLs with credentials are refused and shown masked.
"""

import csv
import hashlib
import io
import os
import posixpath
from collections.abc import Iterator

import pyarrow.parquet as pq
from apache_beam.io.filesystem import BeamIOError
from apache_beam.io.filesystems import FileSystems

from media.urls import redact, url_problem
from pipelines.common.input_plan import InputRef, Listing
from pipelines.common.media_loader import is_url
from pipelines.common.rejects import Rejected, rejected

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".mpo")
URL_LIST_EXTENSIONS = (".csv", ".tsv", ".parquet", ".txt")
URL_COLUMNS = ("url", "image_url", "URL")
STAGE = "input"


def example_id_for(prefix: str, key: str) -> str:
    """PREFIX-<16 hex of sha256(key)>: stable across runs, unique per input."""
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def object_store_schemes() -> set[str]:
    """URL schemes Beam's FileSystems can read here (gs with apache-beam[gcp], s3 with [aws], ...)."""
    schemes = set()
    for scheme in ("gs", "s3", "hdfs", "azfs"):
        try:
            FileSystems.get_filesystem(f"{scheme}://bucket/x")
            schemes.add(scheme)
        except (ValueError, BeamIOError, ImportError):
            continue
    return schemes


def _is_glob(spec: str) -> bool:
    return any(c in spec for c in "*?[")


def _extension(path: str) -> str:
    name = posixpath.basename(path.replace("\\", "/"))
    return os.path.splitext(name)[1].lower()


def list_image_inputs(subset: str, specs: tuple[str, ...], url_column: str | None = None) -> Listing:
    """Every input the specs name, in a stable order (specs sorted, files sorted), with listing dead letters."""
    refs: list[InputRef] = []
    rejects: list[Rejected] = []
    schemes = object_store_schemes()
    for spec in sorted(set(specs)):
        try:
            found = list(_expand(subset, spec, url_column, schemes))
        except Exception as error:  # an unreadable list or an unreachable prefix: that input, said as it is
            rejects.append(rejected(subset, redact(spec), STAGE, f"cannot list input: {type(error).__name__}: {error}"))
            continue
        if not found:
            rejects.append(rejected(subset, redact(spec), STAGE, "input names no files"))
        for item in found:
            (rejects if isinstance(item, Rejected) else refs).append(item)
    return Listing(tuple(refs), tuple(rejects))


def _ref(ref: str) -> InputRef:
    return InputRef(key=ref, where=ref, payload=ref)


def _expand(subset: str, spec: str, url_column: str | None, schemes: set[str]) -> Iterator[InputRef | Rejected]:
    if is_url(spec):
        problem = url_problem(spec, schemes)
        yield rejected(subset, redact(spec), STAGE, problem) if problem else _ref(spec)
        return
    if spec.lower().endswith(URL_LIST_EXTENSIONS):
        yield from _url_list(subset, spec, url_column, schemes)
        return
    if _is_glob(spec):
        paths = _match(spec)
    elif ("://" not in spec and os.path.isdir(spec)) or spec.endswith("/"):
        paths = _match(spec.rstrip("/") + "/**")
    else:
        paths = _match(spec)
        if not paths and "://" in spec:  # gs://bucket/folder without the trailing slash
            paths = _match(spec + "/**")
        elif paths == [spec]:
            yield _ref(spec)  # one file named on purpose: the decoder decides what it is
            return
    for path in paths:
        extension = _extension(path)
        if extension in IMAGE_EXTENSIONS or extension == "":
            yield _ref(path)
        else:
            yield rejected(subset, path, STAGE, f"unsupported type {extension} (not an image file)")


def _match(pattern: str) -> list[str]:
    return sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)


def _url_list(subset: str, spec: str, url_column: str | None, schemes: set[str]) -> Iterator[InputRef | Rejected]:
    for number, url in _read_url_list(spec, url_column):
        where = f"{spec}:{number}"
        problem = url_problem(url, schemes)
        if problem:
            yield rejected(subset, where, STAGE, problem, line=number, value=redact(url)[:200])
        else:
            yield _ref(url)


def _read_url_list(spec: str, url_column: str | None) -> list[tuple[int, str]]:
    """(line or row number, value) of every non-empty entry of a URL list (raises ValueError for a bad list)."""
    with FileSystems.open(spec) as handle:
        data = handle.read()
    lower = spec.lower()
    if lower.endswith(".txt"):
        lines = data.decode("utf-8").splitlines()
        return [(n, line.strip()) for n, line in enumerate(lines, 1) if line.strip() and not line.startswith("#")]
    if lower.endswith(".parquet"):
        table = pq.read_table(io.BytesIO(data))
        column = _url_column(table.column_names, url_column, spec)
        return [(n, str(u).strip()) for n, u in enumerate(table.column(column).to_pylist(), 1) if u and str(u).strip()]
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter="\t" if lower.endswith(".tsv") else ",")
    column = _url_column(reader.fieldnames or [], url_column, spec)
    # Row numbers as a spreadsheet shows them: the header is line 1.
    return [(n, row[column].strip()) for n, row in enumerate(reader, 2) if row.get(column) and row[column].strip()]


def _url_column(names: list[str], wanted: str | None, spec: str) -> str:
    candidates = [wanted] if wanted else list(URL_COLUMNS)
    for name in candidates:
        if name in names:
            return name
    raise ValueError(f"{spec}: no URL column (looked for {', '.join(candidates)}; it has {', '.join(names)})")
