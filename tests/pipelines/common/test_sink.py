"""The streamed-rows sink on the real in-process runner: shards, dead letters, stats, determinism."""

import json
import os

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.common.manifest import aggregate_shard_stats
from pipelines.common.options import in_process_pipeline
from pipelines.common.rejects import rejected
from pipelines.common.sink import WriteRowsAndRejects

SCHEMA = pa.schema([pa.field("example_id", pa.string(), nullable=False), pa.field("value", pa.int64())])


def validate(row):
    return ["value is negative"] if row["value"] < 0 else []


def run(staging):
    rows = [("train" if i % 5 else "validation", {"example_id": f"e{i:03d}", "value": i}) for i in range(50)]
    rows.append(("train", {"example_id": "bad", "value": -1}))
    upstream = [rejected("toy", "http://x/1.jpg", "download", "HTTP 404")]
    with in_process_pipeline() as p:
        split_rows = p | "Rows" >> beam.Create(rows)
        rejects = p | "Rejects" >> beam.Create(upstream)
        _ = (split_rows, rejects) | WriteRowsAndRejects("toy", SCHEMA, validate, str(staging), rows_per_shard=15)


def test_rows_land_in_sorted_shards_and_rejects_in_dead_letters(tmp_path):
    run(tmp_path / "a")
    root = tmp_path / "a"
    train = sorted(os.listdir(root / "train"))
    assert train == [f"part-{i:05d}-of-00003.parquet" for i in range(3)]  # 40 rows / 15 per shard
    table = pq.read_table(str(root / "train"))
    assert table.num_rows == 40
    for name in train:
        ids = pq.read_table(str(root / "train" / name)).column("example_id").to_pylist()
        assert ids == sorted(ids)
    dead = [json.loads(line) for f in sorted((root / "_rejected").iterdir()) for line in f.read_text().splitlines()]
    assert sorted((d["stage"], d["input"]) for d in dead) == [("download", "http://x/1.jpg"), ("validate", "bad")]
    stats = [json.loads(p.read_text()) for p in (root / "_shards").rglob("*.json")]
    totals = aggregate_shard_stats(stats)
    assert totals["rows"] == 50 and totals["rejected"] == 2
    assert totals["splits"]["validation"]["rows"] == 10
    assert totals["rejected_by_stage"] == {"download": 1, "validate": 1}


def test_same_rows_give_the_same_shards(tmp_path):
    run(tmp_path / "a")
    run(tmp_path / "b")
    for name in sorted(os.listdir(tmp_path / "a" / "train")):
        assert pq.read_table(str(tmp_path / "a" / "train" / name)).equals(
            pq.read_table(str(tmp_path / "b" / "train" / name))
        )
