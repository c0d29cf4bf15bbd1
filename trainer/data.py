"""Streams PixMo Parquet shards of any mix of subsets into training batches.

Rows are read a record batch at a time (never a whole file), formatted by the subset's formatter from
`formatting.subsets`, and turned into model inputs. Work is split over DDP ranks and DataLoader workers
by (file, row group) units, or by rows when a source has fewer units than readers.

Exact resume: a worker's stream is a pure function of (seed, its global id), and each example's
randomness is seeded by its index in that stream, so skipping the first k examples (reading rows but not
decoding images) puts the stream exactly where it was.
"""

import glob
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch
from torch.utils.data import IterableDataset, get_worker_info

from formatting.subsets import SUBSETS, RowContext, format_row
from trainer.preprocess import ExampleBuilder, collate, decode_image

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Shard:
    path: str
    ctx: RowContext
    num_rows: int
    num_row_groups: int


@dataclass
class Source:
    """All shards of one subset (and split) and the rate at which the mixture draws from it."""

    subset: str
    shards: list[Shard]
    rate: float

    @property
    def num_rows(self) -> int:
        return sum(s.num_rows for s in self.shards)


def row_context(path: str) -> RowContext:
    """Subset, config and split from `.../SUBSET[/CONFIG]/SPLIT/part-*.parquet`: the split is the parent
    folder, the subset the nearest ancestor named like a registered subset."""
    parts = Path(path).resolve().parts
    split = parts[-2]
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] in SUBSETS:
            config = "/".join(parts[i + 1 : -2]) or None
            return RowContext(parts[i], config, split)
    raise ValueError(f"{path}: no folder named after a known subset ({sorted(SUBSETS)})")


def parse_source_spec(spec: str) -> tuple[str, float | None]:
    """`PATH_OR_GLOB` or `PATH_OR_GLOB=RATE`."""
    if "=" in spec:
        path, rate = spec.rsplit("=", 1)
        return path, float(rate)
    return spec, None


def find_shards(pattern: str, split: str | None) -> list[Shard]:
    """Parquet files under a folder (any depth) or matching a glob, keeping those in `split`."""
    if Path(pattern).is_dir():
        paths = glob.glob(str(Path(pattern) / "**" / "*.parquet"), recursive=True)
    else:
        paths = glob.glob(pattern, recursive=True)
    shards = []
    for path in sorted(paths):
        ctx = row_context(path)
        inner = [ctx.split, *(ctx.config.split("/") if ctx.config else [])]
        if any(part.startswith(("_", ".")) for part in inner):
            continue  # pipeline scratch folders (_shards, _rejected, .tmp): not published data
        if split is not None and ctx.split != split:
            continue
        meta = pq.ParquetFile(path).metadata
        shards.append(Shard(path, ctx, meta.num_rows, meta.num_row_groups))
    return shards


def build_sources(specs: list[str], split: str | None) -> list[Source]:
    """One source per subset found. A spec that covers several subsets (e.g. the output root) splits its
    rate over them in proportion to sqrt(rows), Molmo's usual mixing rule."""
    sources: list[Source] = []
    for spec in specs:
        pattern, rate = parse_source_spec(spec)
        by_subset: dict[str, list[Shard]] = {}
        for shard in find_shards(pattern, split):
            by_subset.setdefault(shard.ctx.subset, []).append(shard)
        if not by_subset:
            raise FileNotFoundError(f"no {split or ''} parquet shards for {pattern!r}")
        weights = {k: math.sqrt(sum(s.num_rows for s in v)) for k, v in by_subset.items()}
        total = sum(weights.values()) or 1.0
        for subset, shards in sorted(by_subset.items()):
            share = weights[subset] / total
            sources.append(Source(subset, shards, share * (1.0 if rate is None else rate)))
    return sources


def read_columns(shard: Shard) -> list[str]:
    available = set(pq.ParquetFile(shard.path).schema_arrow.names)
    wanted = ["example_id", "image", *SUBSETS[shard.ctx.subset].columns]
    return [c for c in wanted if c in available]


def iter_rows(
    source: Source,
    reader: int = 0,
    num_readers: int = 1,
    seed: int = 0,
    shuffle: bool = False,
    infinite: bool = False,
    read_batch: int = 16,
) -> Iterator[tuple[dict, RowContext]]:
    """This reader's share of the source's rows, epoch after epoch when `infinite`."""
    units = [(si, rg) for si, s in enumerate(source.shards) for rg in range(s.num_row_groups)]
    by_unit = len(units) >= num_readers
    epoch = 0
    while True:
        order = list(units)
        if shuffle:
            np.random.default_rng([seed, epoch, 7]).shuffle(order)
        mine = order[reader::num_readers] if by_unit else order
        seen = 0
        kept = 0
        for si, rg in mine:
            shard = source.shards[si]
            pf = pq.ParquetFile(shard.path)
            for batch in pf.iter_batches(batch_size=read_batch, row_groups=[rg], columns=read_columns(shard)):
                for row in batch.to_pylist():
                    seen += 1
                    if not by_unit and (seen - 1) % num_readers != reader:
                        continue
                    kept += 1
                    yield row, shard.ctx
        if not infinite:
            return
        if kept == 0:
            raise RuntimeError(f"reader {reader}/{num_readers} got no rows of {source.subset}: too few rows")
        epoch += 1


def shuffle_buffer(rows: Iterator, size: int, rng: np.random.Generator) -> Iterator:
    """Yield rows in random order from a rolling buffer of `size` (1 = no shuffling)."""
    buf: list = []
    for row in rows:
        if len(buf) < size:
            buf.append(row)
            continue
        i = int(rng.integers(size))
        yield buf[i]
        buf[i] = row
    rng.shuffle(buf)
    yield from buf


def batches_from_worker(consumed: int, worker: int, num_workers: int) -> int:
    """How many of the first `consumed` batches came from `worker` (DataLoader takes them round robin)."""
    return len(range(worker, consumed, num_workers))


class ShardDataset(IterableDataset):
    """Yields collated batches (so a DataLoader runs with batch_size=None). Infinite when training."""

    def __init__(
        self,
        sources: list[Source],
        builder: ExampleBuilder,
        batch_size: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        infinite: bool = True,
        shuffle: bool = True,
        buffer: int = 256,
        blank_images: bool = False,
    ):
        self.sources = sources
        self.builder = builder
        self.batch_size = batch_size
        self.seed = seed
        self.rank, self.world_size = rank, world_size
        self.infinite = infinite
        self.shuffle = shuffle
        self.buffer = buffer if shuffle else 1
        self.blank_images = blank_images
        self.start_batch = 0  # batches of this rank already consumed (set on resume)
        rates = np.array([s.rate for s in sources], np.float64)
        self.probs = rates / rates.sum()

    def _streams(self, reader: int, num_readers: int) -> list[Iterator]:
        streams = []
        for i, src in enumerate(self.sources):
            rows = iter_rows(
                src, reader, num_readers, seed=self.seed + 1000 * i, shuffle=self.shuffle, infinite=self.infinite
            )
            rng = np.random.default_rng([self.seed, i, reader, 3])
            streams.append(shuffle_buffer(rows, self.buffer, rng))
        return streams

    def raw_rows(self, reader: int, num_readers: int) -> Iterator[tuple[dict, RowContext]]:
        """The row order of one reader: a seeded draw over sources, or sources in turn when finite."""
        streams = self._streams(reader, num_readers)
        if not self.infinite:
            for stream in streams:
                yield from stream
            return
        rng = np.random.default_rng([self.seed, reader, 1])
        while True:
            yield next(streams[int(rng.choice(len(streams), p=self.probs))])

    def example(self, row: dict, ctx: RowContext, rng: np.random.Generator) -> dict:
        image = decode_image(row["image"], self.builder.decode_side)
        if self.blank_images:
            image = image.point(lambda _: 127)  # same size, so the same layout, but nothing to see
        convs = format_row(row, rng, ctx)
        ex = self.builder.build(image, convs, rng)
        ex["meta"] = {
            "example_id": row.get("example_id"),
            "subset": ctx.subset,
            "metadata": [c.metadata for c in convs],
        }
        return ex

    def __iter__(self) -> Iterator[dict]:
        info = get_worker_info()
        worker, num_workers = (info.id, info.num_workers) if info else (0, 1)
        reader = self.rank * num_workers + worker
        skip = batches_from_worker(self.start_batch, worker, num_workers) * self.batch_size
        batch: list[dict] = []
        for k, (row, ctx) in enumerate(self.raw_rows(reader, self.world_size * num_workers)):
            if k < skip:
                continue  # resume: rows are read but not decoded
            rng = np.random.default_rng([self.seed, reader, k])
            batch.append(self.example(row, ctx, rng))
            if len(batch) == self.batch_size:
                yield self._collate(batch)
                batch = []
        if batch:
            yield self._collate(batch)

    def _collate(self, batch: list[dict]) -> dict:
        out = collate(batch, self.builder.pad)
        out["meta"] = [e["meta"] for e in batch]
        return out


def make_loader(dataset: ShardDataset, num_workers: int, pin_memory: bool = False) -> torch.utils.data.DataLoader:
    # Pinned host memory lets the copy to the GPU overlap with compute (to(..., non_blocking=True)).
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=None,
        num_workers=num_workers,
        pin_memory=pin_memory,
        prefetch_factor=2 if num_workers else None,
    )
