"""Streams PixMo Parquet shards of any mix of subsets into training batches.

Rows are read a record batch at a time (never a whole file), formatted by the subset's formatter from
`formatting.subsets`, and turned into model inputs. Work is split over DDP ranks and DataLoader workers
by (file, row group) units, or by rows when a source has fewer units than readers.

Exact resume: a worker's stream is a pure function of (seed, its global id), and each example's
randomness is seeded by its index in that stream, so skipping the first k examples (reading rows but not
decoding images) puts the stream exactly where it was.
"""

import glob
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch
from PIL import Image
from torch.utils.data import IterableDataset, get_worker_info

from formatting.subsets import SUBSETS, RowContext, format_row
from trainer.image_labels import image_label_matrix
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


def build_sources(specs: list[str], split: str | None, required: bool = True) -> list[Source]:
    """One source per subset, over all specs together (a subset found under several specs is one source).

    Mixing: a subset is drawn at a rate proportional to RATE x sqrt(its rows) (Molmo's mixing rule), RATE
    from its spec (default 1; one subset given two rates is an error), so a 20-row subset is not drawn as often
    as a 5400-row one. With `required`,
    a spec that matches no shards of `split` is an error naming that spec; without it, it adds nothing.
    """
    shards_by_subset: dict[str, dict[str, Shard]] = {}
    rate_by_subset: dict[str, float] = {}
    for spec in specs:
        pattern, rate = parse_source_spec(spec)
        found = find_shards(pattern, split)
        if not found and required:
            raise FileNotFoundError(f"no {split + ' ' if split else ''}parquet shards under {pattern!r}")
        for shard in found:
            subset = shard.ctx.subset
            if rate is not None and rate_by_subset.setdefault(subset, rate) != rate:
                raise ValueError(f"subset {subset!r} is given two rates ({rate_by_subset[subset]} and {rate})")
            shards_by_subset.setdefault(subset, {})[shard.path] = shard
    sources = []
    for subset, shards in sorted(shards_by_subset.items()):
        rows = sum(s.num_rows for s in shards.values())
        sources.append(Source(subset, list(shards.values()), rate_by_subset.get(subset, 1.0) * math.sqrt(rows)))
    return sources


def mixture(sources: list[Source], samples: int) -> list[dict]:
    """How a training run of `samples` examples draws from each source: share, expected draws, epochs."""
    total = sum(s.rate for s in sources) or 1.0
    out = []
    for s in sources:
        share = s.rate / total
        out.append(
            {"subset": s.subset, "rows": s.num_rows, "share": share, "epochs": share * samples / max(s.num_rows, 1)}
        )
    return out


def read_columns(shard: Shard, extra: tuple[str, ...] = ()) -> list[str]:
    available = set(pq.ParquetFile(shard.path).schema_arrow.names)
    wanted = ["example_id", "image", *SUBSETS[shard.ctx.subset].columns, *extra]
    return [c for c in wanted if c in available]


def _unit_rows(shard: Shard, row_group: int, read_batch: int, extra: tuple[str, ...]) -> Iterator[dict]:
    pf = pq.ParquetFile(shard.path)
    columns = read_columns(shard, extra)
    for batch in pf.iter_batches(batch_size=read_batch, row_groups=[row_group], columns=columns):
        yield from batch.to_pylist()


def _interleave(streams: list[Iterator], width: int, rng: np.random.Generator | None) -> Iterator:
    """Rows from up to `width` streams open at once, each next row from a random open one (in turn when
    `rng` is None). Rows in a row group come in the pipeline's order (Clocks: 16 of one face in a row), so
    reading one group at a time would feed the model a few faces at a time; this mixes many groups."""
    pending = iter(streams)
    open_: list[Iterator] = []
    while True:
        while len(open_) < width and (nxt := next(pending, None)) is not None:
            open_.append(nxt)
        if not open_:
            return
        i = int(rng.integers(len(open_))) if rng is not None else 0
        row = next(open_[i], None)
        if row is None:
            open_.pop(i)
        else:
            yield row


def iter_rows(
    source: Source,
    reader: int = 0,
    num_readers: int = 1,
    seed: int = 0,
    shuffle: bool = False,
    infinite: bool = False,
    read_batch: int = 16,
    interleave: int = 16,
    extra_columns: tuple[str, ...] = (),
) -> Iterator[tuple[dict, RowContext]]:
    """This reader's share of the source's rows, epoch after epoch when `infinite`. With `shuffle`, the
    (file, row group) units come in a seeded order per epoch, `interleave` of them read at once.
    `extra_columns`: read besides the formatter's (when the shard has them), e.g. for a scorer."""
    units = [(si, rg) for si, s in enumerate(source.shards) for rg in range(s.num_row_groups)]
    by_unit = len(units) >= num_readers
    epoch = 0
    while True:
        order = list(units)
        if shuffle:
            np.random.default_rng([seed, epoch, 7]).shuffle(order)
        mine = order[reader::num_readers] if by_unit else order
        streams = [
            zip(_unit_rows(source.shards[si], rg, read_batch, extra_columns), itertools.repeat(source.shards[si].ctx))
            for si, rg in mine
        ]
        rng = np.random.default_rng([seed, epoch, reader, 11]) if shuffle else None
        seen = 0
        kept = 0
        for row, ctx in _interleave(streams, interleave if shuffle else 1, rng):
            seen += 1
            if not by_unit and (seen - 1) % num_readers != reader:
                continue
            kept += 1
            yield row, ctx
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


def blank_image(image: Image.Image) -> Image.Image:
    """Same size (so the same layout and tokens), but nothing to see."""
    return image.convert("RGB").point(lambda _: 127)


# Length grouping sorts a group's examples by length only where that cuts the padded tokens by this share.
MIN_PADDING_SAVED = 0.25


def _cut(order: list[int], size: int) -> list[list[int]]:
    return [order[i : i + size] for i in range(0, len(order), size)]


def _padded_tokens(chunks: list[list[int]], lengths: list[int]) -> int:
    """Tokens the batches take once each is padded to its longest example."""
    return sum(len(chunk) * max(lengths[i] for i in chunk) for chunk in chunks)


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
        length_group: int = 1,
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
        # Batches made together from length-sorted examples (1 = off): short clocks answers are not padded to
        # the length of a long caption in the same batch. Only when infinite (training); evaluation keeps order.
        self.length_group = max(1, length_group) if infinite else 1
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
            image = blank_image(image)
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
        # Resume: whole groups already consumed are skipped without decoding, the rest of a group is rebuilt.
        group_rows = self.batch_size * self.length_group
        mine = batches_from_worker(self.start_batch, worker, num_workers)
        skip_groups, skip_batches = divmod(mine, self.length_group)
        pending: list[dict] = []
        for k, (row, ctx) in enumerate(self.raw_rows(reader, self.world_size * num_workers)):
            if k < skip_groups * group_rows:
                continue
            rng = np.random.default_rng([self.seed, reader, k])
            pending.append(self.example(row, ctx, rng))
            if len(pending) == group_rows:
                batches = self._group_batches(pending, k // group_rows, reader)
                yield from batches[skip_batches:]
                skip_batches, pending = 0, []
        for i in range(0, len(pending), self.batch_size):  # finite: the last, possibly short, batches
            yield self._collate(pending[i : i + self.batch_size])

    def _group_batches(self, examples: list[dict], group: int, reader: int) -> list[dict]:
        """Examples cut into batches, the batches in a seeded random order. The examples are sorted by length
        first only where that saves at least `MIN_PADDING_SAVED` of the padded tokens: sorting also makes batches
        less random. On Clocks (sorting saves ~7%; an hour of 10-12 is one byte longer) it put like hours
        together (two-digit hours 0-53% of a batch instead of 3-41%), and a diagnostic run whose image-only loss
        was the true hour learned it from step ~135 unsorted but not in 575 steps sorted (trainer/EXPERIMENTS.md)."""
        if self.length_group == 1:
            return [self._collate(examples)]
        lengths = [len(e["input_ids"]) for e in examples]
        as_drawn = _cut(list(range(len(examples))), self.batch_size)
        chunks = _cut(sorted(range(len(examples)), key=lengths.__getitem__), self.batch_size)
        if _padded_tokens(chunks, lengths) > (1 - MIN_PADDING_SAVED) * _padded_tokens(as_drawn, lengths):
            chunks = as_drawn
        np.random.default_rng([self.seed, reader, group, 5]).shuffle(chunks)
        return [self._collate([examples[i] for i in chunk]) for chunk in chunks]

    def _collate(self, batch: list[dict]) -> dict:
        out = collate(batch, self.builder.pad)
        out["meta"] = [e["meta"] for e in batch]
        out["image_labels"] = torch.from_numpy(image_label_matrix(out["meta"]))  # for `label_aux_weight`
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
