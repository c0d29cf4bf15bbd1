"""The generated-shard DoFn on its own: rows, dead letters and stats of one shard, validated per shard or per row."""

import json

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.common.generated import ExampleMaker, WriteGeneratedShard, shard_paths
from pipelines.common.shards import ShardTask

SCHEMA = pa.schema([("example_id", pa.string()), ("value", pa.int64())])


class Maker(ExampleMaker):
    """Index -> a row; 3 fails to generate, 5 makes a value the rules reject, 7 a value of the wrong type."""

    def setup(self) -> None:
        pass

    def make(self, index: int, split: str) -> dict:
        if index == 3:
            raise RuntimeError("no such example")
        value = {5: -1, 7: "seven"}.get(index, index)
        return {"example_id": f"e{index:02d}", "value": value}


def validate_row(row: dict) -> list[str]:
    if not isinstance(row["value"], int):
        return ["value: expected int64"]
    return ["value is negative"] if row["value"] < 0 else []


def validate_table(table: pa.Table) -> dict[int, list[str]]:
    return {i: ["value is negative"] for i, value in enumerate(table.column("value").to_pylist()) if value < 0}


def run_shard(tmp_path, validate_shard, stop: int) -> tuple[pa.Table, list[dict], dict]:
    writer = WriteGeneratedShard("toy", Maker(), SCHEMA, validate_row, str(tmp_path), validate_shard=validate_shard)
    writer.setup()
    task = ShardTask("train", 0, 1, 0, stop)
    (stats,) = list(writer.process(task))
    paths = shard_paths(str(tmp_path), task)
    with open(paths["rejected"]) as handle:
        dead = [json.loads(line) for line in handle]
    return pq.read_table(paths["shard"]), dead, stats


def test_shard_validation_turns_bad_rows_into_dead_letters(tmp_path):
    table, dead, stats = run_shard(tmp_path, validate_table, stop=7)
    assert table.column("example_id").to_pylist() == ["e00", "e01", "e02", "e04", "e06"]
    assert [(d["input"], d["stage"]) for d in dead] == [("e05", "validate"), ("toy:3", "generate")]
    assert dead[0]["reason"] == "value is negative"
    assert (stats["rows"], stats["rejected"]) == (5, 2)
    assert {"make", "arrow table", "validate", "parquet write"} <= set(stats["stage_cpu_seconds"])


def test_a_row_that_does_not_fit_the_schema_falls_back_to_row_validation(tmp_path):
    table, dead, stats = run_shard(tmp_path, validate_table, stop=9)
    assert table.column("example_id").to_pylist() == ["e00", "e01", "e02", "e04", "e06", "e08"]
    assert [(d["input"], d["reason"]) for d in dead if d["stage"] == "validate"] == [
        ("e05", "value is negative"),
        ("e07", "value: expected int64"),
    ]


def test_without_a_shard_validator_rows_are_validated_one_by_one(tmp_path):
    table, dead, stats = run_shard(tmp_path, None, stop=7)
    assert table.num_rows == 5 and [d["input"] for d in dead] == ["e05", "toy:3"]
