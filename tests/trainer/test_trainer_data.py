import io
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from trainer.config import preset
from trainer.data import (
    MIN_PADDING_SAVED,
    ShardDataset,
    _cut,
    _padded_tokens,
    batches_from_worker,
    build_sources,
    find_shards,
    iter_rows,
    make_loader,
    mixture,
    parse_source_spec,
    row_context,
)
from trainer.preprocess import IGNORE, ExampleBuilder


@pytest.fixture(scope="module")
def tokenizer(tiny_tokenizer_dir):
    from transformers import AutoTokenizer

    from trainer.tokenizer import add_layout_tokens

    return add_layout_tokens(AutoTokenizer.from_pretrained(tiny_tokenizer_dir))


@pytest.fixture(scope="module")
def builder(tokenizer):
    cfg = preset("tiny")
    return ExampleBuilder(tokenizer, cfg.image, cfg.max_seq_len)


def write_count_shard(root: Path, n: int) -> None:
    folder = root / "count" / "train"
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        buf = io.BytesIO()
        Image.new("RGB", (40, 30), (i, 0, 0)).save(buf, format="PNG")
        rows.append(
            {
                "example_id": f"c{i}",
                "image": {"bytes": buf.getvalue(), "path": f"c{i}.png"},
                "label": "dots",
                "count": i % 3,
                "points": {"x": [10.0] * (i % 3), "y": [5.0] * (i % 3)},
            }
        )
    pq.write_table(pa.Table.from_pylist(rows), folder / "part-00000-of-00001.parquet", row_group_size=5)


def write_caption_shard(root: Path, n: int) -> None:
    """Cap rows whose captions are much longer than a clock answer."""
    folder = root / "cap" / "train"
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        buf = io.BytesIO()
        Image.new("RGB", (40, 30), (0, i, 0)).save(buf, format="PNG")
        caption = " ".join(["a long and detailed caption"] * (4 + i))
        rows.append({"example_id": f"cap{i}", "image": {"bytes": buf.getvalue(), "path": None}, "caption": caption})
    pq.write_table(pa.Table.from_pylist(rows), folder / "part-00000-of-00001.parquet")


def test_row_context_and_spec(tmp_path):
    assert row_context(str(tmp_path / "out/clocks/train/part-00000-of-00001.parquet")).subset == "clocks"
    ctx = row_context(str(tmp_path / "out/docs/charts/validation/part-00000-of-00001.parquet"))
    assert (ctx.subset, ctx.config, ctx.split) == ("docs", "charts", "validation")
    with pytest.raises(ValueError):
        row_context(str(tmp_path / "x/y/part.parquet"))
    assert parse_source_spec("a/b=0.5") == ("a/b", 0.5)
    assert parse_source_spec("a/*/train/*.parquet") == ("a/*/train/*.parquet", None)


def test_find_shards_by_split_and_glob(clock_shards):
    train = find_shards(str(clock_shards), "train")
    assert len(train) == 2 and sum(s.num_rows for s in train) == 24
    assert all(s.ctx.split == "train" for s in train)
    scratch = clock_shards / "clocks" / "_shards" / "train"
    scratch.mkdir(parents=True)
    shutil.copy(train[0].path, scratch / "part-00000-of-00001.parquet")
    assert len(find_shards(str(clock_shards), "train")) == 2  # scratch folders are not data
    shutil.rmtree(scratch.parent)
    globbed = find_shards(str(clock_shards / "clocks" / "*" / "part-00000-*.parquet"), None)
    assert {s.ctx.split for s in globbed} == {"train", "validation"}


@pytest.mark.parametrize("readers", [1, 3, 7, 13])
def test_readers_split_rows_exactly_once(clock_shards, readers):
    (src,) = build_sources([str(clock_shards)], "train")
    ids = [row["example_id"] for r in range(readers) for row, _ in iter_rows(src, r, readers)]
    assert len(ids) == 24 and len(set(ids)) == 24  # 6 row groups: by unit up to 6 readers, by row beyond


def test_batches_carry_formatted_clocks(clock_shards, builder, tokenizer):
    ds = ShardDataset(build_sources([str(clock_shards)], "train"), builder, batch_size=4)
    batch = next(iter(ds))
    assert batch["input_ids"].shape[0] == 4
    for i, meta in enumerate(batch["meta"]):
        t = batch["targets"][i]
        answer = tokenizer.decode(t[t != IGNORE]).replace(tokenizer.eos_token, "")
        h = meta["metadata"][0]["hour"]
        assert answer.startswith(" The time shown is ")
        assert answer.endswith("AM" if h < 12 else "PM")


def test_finite_split_reads_everything_once(clock_shards, builder):
    ds = ShardDataset(
        build_sources([str(clock_shards)], "validation"), builder, batch_size=3, infinite=False, shuffle=False
    )
    ids = [m["example_id"] for b in ds for m in b["meta"]]
    assert len(ids) == 8 and len(set(ids)) == 8


def test_mixing_weighs_subsets_by_size_across_entries(clock_shards, builder, tmp_path):
    write_count_shard(tmp_path, 6)  # 6 count rows beside 24 clocks rows: sqrt weights 2.45 vs 4.90
    sources = build_sources([str(clock_shards), str(tmp_path)], "train")
    assert [(s.subset, s.num_rows) for s in sources] == [("clocks", 24), ("count", 6)]
    shares = {m["subset"]: m["share"] for m in mixture(sources, 300)}
    assert shares["clocks"] == pytest.approx(2 / 3) and shares["count"] == pytest.approx(1 / 3)
    ds = ShardDataset(sources, builder, batch_size=1, buffer=1)
    subsets = Counter(row[1].subset for row, _ in zip(ds.raw_rows(0, 1), range(600), strict=False))
    assert 0.6 < subsets["clocks"] / 600 < 0.73
    # =RATE multiplies a subset's size weight; the same shards named twice count once.
    doubled = build_sources([f"{clock_shards}=2", str(tmp_path), str(clock_shards / "clocks")], "train")
    assert doubled[0].num_rows == 24 and {m["subset"]: m["share"] for m in mixture(doubled, 1)}["clocks"] == (
        pytest.approx(0.8)
    )
    with pytest.raises(FileNotFoundError, match="validation parquet shards under"):
        build_sources([str(tmp_path)], "validation")
    assert build_sources([str(tmp_path)], "validation", required=False) == []


def test_length_grouped_batches_are_sorted_and_resume_exactly(clock_shards, builder, tmp_path):
    write_caption_shard(tmp_path, 12)
    sources = build_sources([str(clock_shards), str(tmp_path)], "train")

    def batches(start: int, n: int) -> list:
        ds = ShardDataset(sources, builder, batch_size=3, seed=1, buffer=4, length_group=4)
        ds.start_batch = start
        it = iter(ds)
        return [next(it) for _ in range(n)]

    full = batches(0, 8)
    # Within a group of 4 batches, each batch holds examples of similar length: short clocks with short clocks.
    group = [b["input_ids"].shape[1] for b in full[:4]]
    padded = sum(int((~b["attention_mask"]).sum()) for b in full[:4])
    assert len(set(group)) > 1 and padded < sum(3 * length for length in group) // 4
    resumed = batches(5, 3)  # mid-group
    for a, b in zip(full[5:], resumed, strict=True):
        assert [m["example_id"] for m in a["meta"]] == [m["example_id"] for m in b["meta"]]
        assert np.array_equal(a["input_ids"], b["input_ids"])


def test_length_grouping_keeps_the_drawn_batches_where_sorting_saves_little(clock_shards, builder):
    sources = build_sources([str(clock_shards)], "train")

    def batch_ids(length_group: int) -> list[tuple]:
        it = iter(ShardDataset(sources, builder, batch_size=3, seed=1, buffer=4, length_group=length_group))
        return [tuple(m["example_id"] for m in next(it)["meta"]) for _ in range(4)]

    # Clocks prompts differ by a few bytes (an hour of 10-12 is one byte longer): sorting them would save little
    # padding and would put like hours together, so the batches are the drawn ones (in a shuffled order).
    grouped, drawn = batch_ids(4), batch_ids(1)
    assert sorted(grouped) == sorted(drawn)


def test_padded_tokens_and_the_sorting_rule():
    lengths = [100, 1000, 101, 1001]
    drawn, by_length = _cut([0, 1, 2, 3], 2), _cut([0, 2, 1, 3], 2)
    assert _padded_tokens(drawn, lengths) == 4002 and _padded_tokens(by_length, lengths) == 2204
    assert _padded_tokens(by_length, lengths) < (1 - MIN_PADDING_SAVED) * _padded_tokens(drawn, lengths)


def test_batches_from_worker():
    assert [batches_from_worker(5, w, 2) for w in range(2)] == [3, 2]
    assert batches_from_worker(0, 0, 1) == 0


@pytest.mark.parametrize("workers", [0, 2])
def test_resume_gives_the_same_batches(clock_shards, builder, workers):
    def batches(start: int, n: int) -> list:
        ds = ShardDataset(build_sources([str(clock_shards)], "train"), builder, batch_size=2, seed=3, buffer=4)
        ds.start_batch = start
        it = iter(make_loader(ds, workers))
        return [next(it) for _ in range(n)]

    full = batches(0, 7)
    resumed = batches(4, 3)
    for a, b in zip(full[4:], resumed, strict=True):
        assert [m["example_id"] for m in a["meta"]] == [m["example_id"] for m in b["meta"]]
        assert np.array_equal(a["input_ids"], b["input_ids"])  # same prompt template draws too
        assert np.array_equal(a["crops"], b["crops"])


def test_blank_images_keep_layout(clock_shards, builder):
    src = build_sources([str(clock_shards)], "validation")
    real = next(iter(ShardDataset(src, builder, 2, infinite=False, shuffle=False)))
    blank = next(iter(ShardDataset(src, builder, 2, infinite=False, shuffle=False, blank_images=True)))
    assert np.array_equal(real["input_ids"], blank["input_ids"])
    assert not np.array_equal(real["crops"], blank["crops"])
    # Per channel only gray, the black padding, and a blend at their edge.
    assert all(blank["crops"][0][c].unique().numel() <= 3 for c in range(3))
