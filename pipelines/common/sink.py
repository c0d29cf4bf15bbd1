"""The sink for subsets whose rows come out of a Beam graph (real images, model outputs, annotations).

    (split, row) PCollection ─ validate ─┬─ valid ─ count per split ─┐
                                         │                            ├─ key by (split, shard) ─ GroupByKey ─ write
                                         └─ invalid ─┐                │
    Rejected PCollection ────────────────────────────┴─ key by (stage, bucket) ─ GroupByKey ─ write JSON lines

A row's shard is a stable hash of its example_id modulo the split's shard count, which follows the split's
row count (a side input), so reruns put the same rows in the same shards, sorted by example_id. Each shard
and each dead-letter file gets a stats file under `_shards/`, as in the generated-subset pattern.
"""

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import apache_beam as beam
import pyarrow as pa

from pipelines.common.input_plan import stable_bucket
from pipelines.common.rejects import Rejected, rejected, to_jsonl
from pipelines.common.shards import rows_to_table, shard_name, write_bytes_atomically, write_table
from pipelines.common.staging import join

REJECT_BUCKETS = 8  # dead-letter files per stage: enough to write them in parallel, few enough to browse


def shards_for(rows: int, rows_per_shard: int, num_shards: int | None) -> int:
    if num_shards:
        return max(1, min(num_shards, rows))
    return max(1, math.ceil(rows / rows_per_shard))


class _Validate(beam.DoFn):
    REJECTED = "rejected"

    def __init__(self, subset: str, validate: Callable[[dict[str, Any]], list[str]]) -> None:
        self.subset = subset
        self.validate = validate

    def process(self, element: tuple[str, dict[str, Any]]) -> Iterator[Any]:
        split, row = element
        problems = self.validate(row)
        if problems:
            yield beam.pvalue.TaggedOutput(
                self.REJECTED, rejected(self.subset, row.get("example_id", "?"), "validate", "; ".join(problems))
            )
        else:
            yield split, row


class _WriteShard(beam.DoFn):
    def __init__(self, schema: pa.Schema, staging_dir: str) -> None:
        self.schema = schema
        self.staging_dir = staging_dir

    def process(self, element: tuple[tuple[str, int, int], Iterable[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
        (split, shard, num_shards), rows = element
        name = shard_name(shard, num_shards)
        table = rows_to_table(list(rows), self.schema)
        size = write_table(table, join(self.staging_dir, split, name + ".parquet"))
        stats = {
            "split": split,
            "shard": shard,
            "num_shards": num_shards,
            "rows": table.num_rows,
            "rejected": 0,
            "rejected_by_stage": {},
            "bytes": size,
        }
        write_bytes_atomically(join(self.staging_dir, "_shards", split, name + ".json"), json.dumps(stats).encode())
        yield stats


class _WriteRejects(beam.DoFn):
    def __init__(self, staging_dir: str) -> None:
        self.staging_dir = staging_dir

    def process(self, element: tuple[tuple[str, int], Iterable[Rejected]]) -> Iterator[dict[str, Any]]:
        (stage, bucket), records = element
        records = list(records)
        name = f"{stage}-{bucket:05d}"
        write_bytes_atomically(join(self.staging_dir, "_rejected", name + ".jsonl"), to_jsonl(records))
        stats = {"rejected": len(records), "rejected_by_stage": dict(Counter(r.stage for r in records))}
        stats_path = join(self.staging_dir, "_shards", "_rejected", name + ".json")
        write_bytes_atomically(stats_path, json.dumps(stats).encode())
        yield stats


class WriteRowsAndRejects(beam.PTransform):
    """Validate (split, row) pairs and write shards, dead letters and stats files into the staging folder."""

    def __init__(
        self,
        subset: str,
        schema: pa.Schema,
        validate: Callable[[dict[str, Any]], list[str]],
        staging_dir: str,
        rows_per_shard: int,
        num_shards: int | None = None,
    ) -> None:
        super().__init__()
        self.subset = subset
        self.schema = schema
        self.validate = validate
        self.staging_dir = staging_dir
        self.rows_per_shard = rows_per_shard
        self.num_shards = num_shards

    # No type hint on `inputs`: Beam would try to type-check the (rows, rejects) tuple and warn on every run.
    def expand(self, inputs):
        split_rows, rejects = inputs
        checked = split_rows | "Validate" >> beam.ParDo(_Validate(self.subset, self.validate)).with_outputs(
            _Validate.REJECTED, main="valid"
        )
        valid = checked.valid
        counts = valid | "SplitOf" >> beam.Map(lambda kv: kv[0]) | "RowsPerSplit" >> beam.combiners.Count.PerElement()
        rows_per_shard, num_shards = self.rows_per_shard, self.num_shards

        def key_by_shard(kv: tuple[str, dict[str, Any]], split_counts: dict[str, int]):
            split, row = kv
            n = shards_for(split_counts[split], rows_per_shard, num_shards)
            return (split, stable_bucket(row["example_id"], n), n), row

        shards = (
            valid
            | "KeyByShard" >> beam.Map(key_by_shard, split_counts=beam.pvalue.AsDict(counts))
            | "GroupShards" >> beam.GroupByKey()
            | "WriteShards" >> beam.ParDo(_WriteShard(self.schema, self.staging_dir))
        )
        dead = (
            (rejects, checked[_Validate.REJECTED])
            | "AllRejects" >> beam.Flatten()
            | "KeyRejects" >> beam.Map(lambda r: ((r.stage, stable_bucket(r.input_ref, REJECT_BUCKETS)), r))
            | "GroupRejects" >> beam.GroupByKey()
            | "WriteRejects" >> beam.ParDo(_WriteRejects(self.staging_dir))
        )
        return (shards, dead) | "Stats" >> beam.Flatten()
