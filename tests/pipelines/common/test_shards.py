import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.common import shards
from pipelines.common.shards import plan_shards, rows_to_table, shard_count, write_table


def test_plan_covers_every_index_once_with_balanced_shards():
    ranges = {"train": (0, 1000), "validation": (1000, 1050), "test": (1050, 1100)}
    tasks = plan_shards(ranges, rows_per_shard=300)
    covered = sorted(i for t in tasks for i in range(t.start, t.stop))
    assert covered == list(range(1100))
    train = [t for t in tasks if t.split == "train"]
    assert len(train) == 4 and {len(t) for t in train} == {250}
    assert all(t.num_shards == len([u for u in tasks if u.split == t.split]) for t in tasks)


def test_min_shards_and_fixed_shard_count():
    assert shard_count(10, rows_per_shard=2000, min_shards=8) == 8
    assert shard_count(3, rows_per_shard=2000, min_shards=8) == 3  # never an empty shard
    tasks = plan_shards({"train": (0, 100), "validation": (100, 110)}, 2000, num_shards=10)
    assert len([t for t in tasks if t.split == "train"]) == 10
    assert len([t for t in tasks if t.split == "validation"]) == 1


def test_written_shard_is_sorted_zstd_and_has_no_temp_files(tmp_path):
    schema = pa.schema([("example_id", pa.string()), ("value", pa.int64())])
    rows = [{"example_id": f"e{i}", "value": i} for i in (3, 1, 2)]
    path = str(tmp_path / "train" / "part-00000-of-00001.parquet")
    write_table(rows_to_table(rows, schema), path)
    table = pq.read_table(path)
    assert table.column("example_id").to_pylist() == ["e1", "e2", "e3"]
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"
    assert [p.name for p in (tmp_path / "train").iterdir()] == ["part-00000-of-00001.parquet"]


def test_cuts_fall_on_face_boundaries_when_aligned():
    ranges = {"train": (0, 3600), "validation": (3600, 3800), "test": (3800, 4000)}
    tasks = plan_shards(ranges, 2000, min_shards=8, align=16)
    assert sorted(i for t in tasks for i in range(t.start, t.stop)) == list(range(4000))
    train = [t for t in tasks if t.split == "train"]
    assert len(train) == 8 and all(t.start % 16 == 0 for t in train)
    assert max(len(t) for t in train) - min(len(t) for t in train) <= 16
    # Shards too short to align keep their plain cuts rather than collapse.
    small = plan_shards({"train": (0, 40)}, 2000, min_shards=8, align=16)
    assert [len(t) for t in small] == [5] * 8


def test_encoded_images_are_stored_uncompressed_and_the_rest_zstd(tmp_path):
    image = pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string())])
    schema = pa.schema([("example_id", pa.string()), ("image", image), ("tags", pa.list_(pa.string()))])
    rows = [
        {"example_id": f"e{i}", "image": {"bytes": bytes([i]) * 100, "path": "a.jpg"}, "tags": ["x"]} for i in range(3)
    ]
    path = str(tmp_path / "part.parquet")
    table = rows_to_table(rows, schema)
    write_table(table, path)
    assert pq.read_table(path).equals(table)
    group = pq.ParquetFile(path).metadata.row_group(0)
    codecs = {group.column(i).path_in_schema: group.column(i).compression for i in range(group.num_columns)}
    assert codecs == {
        "example_id": "ZSTD",
        "image.bytes": "UNCOMPRESSED",
        "image.path": "ZSTD",
        "tags.list.element": "ZSTD",
    }


def test_a_failed_write_leaves_neither_the_file_nor_a_temporary(tmp_path, monkeypatch):
    def write_half_then_fail(table, handle, **options):
        handle.write(b"PAR1 half a shard")
        raise OSError("disk full")

    monkeypatch.setattr(shards.pq, "write_table", write_half_then_fail)
    path = tmp_path / "train" / "part-00000-of-00001.parquet"
    with pytest.raises(OSError, match="disk full"):
        write_table(rows_to_table([{"example_id": "e1"}], pa.schema([("example_id", pa.string())])), str(path))
    assert list((tmp_path / "train").iterdir()) == []
