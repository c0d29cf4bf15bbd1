"""Parquet shards: naming, planning which examples go in which shard, and writing one shard.

Rows inside a shard are sorted by `example_id`, and a shard is written to a temporary name and renamed,
so a shard file that exists is complete and identical on every rerun with the same arguments.
"""

import contextlib
import math
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

ROW_GROUP_ROWS = 256  # ~6 MB of 448 px JPEGs: small enough for streaming readers, big enough for zstd


@dataclass(frozen=True)
class ShardTask:
    """One shard of one split: the example indices [start, stop) it holds."""

    split: str
    shard: int
    num_shards: int
    start: int
    stop: int

    @property
    def name(self) -> str:
        return shard_name(self.shard, self.num_shards)

    @property
    def key(self) -> str:
        return f"{self.split}/{self.name}"

    def __len__(self) -> int:
        return self.stop - self.start


def shard_name(shard: int, num_shards: int) -> str:
    return f"part-{shard:05d}-of-{num_shards:05d}"


def shard_count(num_rows: int, rows_per_shard: int, min_shards: int = 1) -> int:
    """Enough shards to keep each under `rows_per_shard` rows, at least `min_shards` (never more than rows)."""
    wanted = max(math.ceil(num_rows / rows_per_shard), min_shards)
    return max(1, min(wanted, num_rows))


def plan_shards(
    ranges: dict[str, tuple[int, int]],
    rows_per_shard: int,
    num_shards: int | None = None,
    min_shards: int = 1,
    align: int = 1,
) -> list[ShardTask]:
    """Cut each split's index range into shards of near-equal size.

    `num_shards` fixes the count for the largest split (smaller splits get proportionally fewer, at least 1);
    otherwise the count follows `rows_per_shard`, with at least `min_shards` for the largest split so every
    worker has work. With `align`, cuts inside a split fall on multiples of it where the shards are long enough
    (Clocks: a watch face's run of indices then stays in one shard, rendered once).
    """
    largest = max((stop - start for start, stop in ranges.values()), default=0)
    tasks = []
    for split, (start, stop) in ranges.items():
        rows = stop - start
        if rows == 0:
            continue
        if num_shards:
            n = max(1, min(rows, round(num_shards * rows / largest)))
        else:
            n = shard_count(rows, rows_per_shard, min_shards if rows == largest else 1)
        cuts = [start + rows * i // n for i in range(n + 1)]
        if align > 1 and rows // n >= 2 * align:
            cuts = [start] + [round(cut / align) * align for cut in cuts[1:-1]] + [stop]
        for i in range(n):
            tasks.append(ShardTask(split, i, n, cuts[i], cuts[i + 1]))
    return tasks


def rows_to_table(rows: Iterable[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Rows sorted by example_id, as an Arrow table of exactly `schema`."""
    ordered = sorted(rows, key=lambda r: r["example_id"])
    return pa.Table.from_pylist(ordered, schema=schema)


def write_table(table: pa.Table, path: str) -> int:
    """Write `table` as a Parquet file at `path` (local or any Beam filesystem), atomically; bytes written.

    Columns are zstd-compressed and dictionary-encoded, except binary ones (encoded images): they neither
    compress (zstd gains ~5% on JPEG at 2.5x the write time) nor repeat, and their statistics would only bloat
    the footer.
    """
    leaves = _leaf_paths(table.schema)
    binary = {leaf for leaf, dtype in leaves if _has_binary(dtype)}
    with _atomic_create(path) as handle:  # straight into the file: each in-memory copy of a shard costs page faults
        pq.write_table(
            table,
            handle,
            compression={leaf: "none" if leaf in binary else "zstd" for leaf, _ in leaves},
            use_dictionary=[leaf for leaf, _ in leaves if leaf not in binary],
            row_group_size=ROW_GROUP_ROWS,
            write_statistics=[f.name for f in table.schema if not _has_binary(f.type)],
        )
        return handle.tell()


def _leaf_paths(schema: pa.Schema) -> list[tuple[str, pa.DataType]]:
    """Parquet's dotted path of every leaf column (struct fields, list elements) and its Arrow type."""
    leaves: list[tuple[str, pa.DataType]] = []

    def walk(prefix: str, dtype: pa.DataType) -> None:
        if pa.types.is_struct(dtype):
            for i in range(dtype.num_fields):
                walk(f"{prefix}.{dtype.field(i).name}", dtype.field(i).type)
        elif pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
            walk(f"{prefix}.list.element", dtype.value_type)
        else:
            leaves.append((prefix, dtype))

    for field in schema:
        walk(field.name, field.type)
    return leaves


def write_bytes_atomically(path: str, data: bytes) -> int:
    """Write to a temporary sibling, then rename, so readers never see a partial file."""
    with _atomic_create(path) as handle:
        handle.write(data)
    return len(data)


@contextlib.contextmanager
def _atomic_create(path: str) -> Iterator[BinaryIO]:
    """A handle on a temporary sibling of `path`, renamed to `path` once closed without an error."""
    tmp = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
    ensure_dir(_parent(path))
    try:
        with FileSystems.create(tmp) as handle:
            yield handle
    except BaseException:
        if FileSystems.exists(tmp):
            FileSystems.delete([tmp])
        raise
    if FileSystems.exists(path):
        FileSystems.delete([path])
    FileSystems.rename([tmp], [path])


def ensure_dir(path: str) -> None:
    """Create a folder if missing (object stores have no folders: a no-op there)."""
    if not FileSystems.exists(path):
        try:
            FileSystems.mkdirs(path)
        except OSError:
            if not FileSystems.exists(path):  # another worker may have made it meanwhile
                raise


def read_bytes(path: str) -> bytes:
    with FileSystems.open(path) as handle:
        return handle.read()


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0]


def _has_binary(dtype: pa.DataType) -> bool:
    if pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype):
        return True
    if pa.types.is_struct(dtype):
        return any(_has_binary(dtype.field(i).type) for i in range(dtype.num_fields))
    if pa.types.is_list(dtype):
        return _has_binary(dtype.value_type)
    return False
