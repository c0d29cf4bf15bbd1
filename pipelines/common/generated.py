"""The shard task pattern for subsets that make their own inputs (Clocks, Docs).

Each Beam element is a `ShardTask`; one DoFn call makes that shard's examples, validates them, and writes
the shard, its dead letters and its stats file. Image bytes never cross a process boundary, work is
deterministic per shard, and a shard whose stats file exists is done (an interrupted run resumes there).
"""

import json
import os
import socket
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems

from pipelines.common.progress import ProgressWriter
from pipelines.common.rejects import from_exception, rejected, to_jsonl
from pipelines.common.shards import ShardTask, read_bytes, rows_to_table, write_bytes_atomically, write_table
from pipelines.common.staging import join


class ExampleMaker(ABC):
    """Makes the row for one example index. Subclasses hold config only; heavy state is built in `setup`."""

    @abstractmethod
    def setup(self) -> None:
        """Called once per worker process before any `make`."""

    @abstractmethod
    def make(self, index: int, split: str) -> dict[str, Any]:
        """The row for example `index`. Raise `RejectedExample` for an expected rejection."""

    def make_many(self, indices: list[int], split: str) -> list[dict[str, Any] | Exception]:
        """Rows for a shard's indices, in order; a failed example is its exception. Makers that batch work across
        examples (LLM calls) override this; the default makes them one at a time."""
        results: list[dict[str, Any] | Exception] = []
        for index in indices:
            try:
                results.append(self.make(index, split))
            except Exception as error:  # noqa: BLE001 - the caller turns it into a dead letter
                results.append(error)
        return results

    def teardown(self) -> None:  # noqa: B027 - optional hook, a no-op unless a maker holds resources
        """Called once per worker process at the end (close browsers, servers)."""


def shard_paths(staging_dir: str, task: ShardTask) -> dict[str, str]:
    return {
        "shard": join(staging_dir, task.split, task.name + ".parquet"),
        "rejected": join(staging_dir, "_rejected", f"{task.split}-{task.name}.jsonl"),
        "stats": join(staging_dir, "_shards", task.split, task.name + ".json"),
        "progress": join(staging_dir, "_progress", f"{task.split}-{task.name}.json"),
    }


class WriteGeneratedShard(beam.DoFn):
    """ShardTask -> (shard file, dead letters, stats file); outputs the stats dict."""

    def __init__(
        self,
        subset: str,
        maker: ExampleMaker,
        schema: pa.Schema,
        validate: Callable[[dict[str, Any]], list[str]],
        staging_dir: str,
    ) -> None:
        self.subset = subset
        self.maker = maker
        self.schema = schema
        self.validate = validate
        self.staging_dir = staging_dir

    def setup(self) -> None:
        self.maker.setup()

    def teardown(self) -> None:
        self.maker.teardown()

    def process(self, task: ShardTask) -> Iterator[dict[str, Any]]:
        paths = shard_paths(self.staging_dir, task)
        if FileSystems.exists(paths["stats"]) and FileSystems.exists(paths["shard"]):
            stats = json.loads(read_bytes(paths["stats"]))
            write_bytes_atomically(paths["progress"], json.dumps({"done": len(task), "total": len(task)}).encode())
            yield dict(stats, resumed=True)
            return
        start = time.perf_counter()
        progress = ProgressWriter(paths["progress"], len(task))
        rows, dead = [], []
        indices = list(range(task.start, task.stop))
        try:
            made = self.maker.make_many(indices, task.split)
        except Exception as error:  # noqa: BLE001 - every failure becomes a dead letter, never a crash
            made = [error] * len(indices)
        for index, row in zip(indices, made, strict=True):
            if isinstance(row, Exception):
                dead.append(from_exception(self.subset, f"{self.subset}:{index}", "generate", row))
            else:
                problems = self.validate(row)
                if problems:
                    dead.append(
                        rejected(self.subset, row.get("example_id", str(index)), "validate", "; ".join(problems))
                    )
                else:
                    rows.append(row)
            progress.advance()
        progress.flush()
        shard_bytes = write_table(rows_to_table(rows, self.schema), paths["shard"])
        if dead:
            write_bytes_atomically(paths["rejected"], to_jsonl(dead))
        stats = {
            "split": task.split,
            "shard": task.shard,
            "num_shards": task.num_shards,
            "first_index": task.start,
            "stop_index": task.stop,
            "rows": len(rows),
            "rejected": len(dead),
            "rejected_by_stage": dict(Counter(d.stage for d in dead)),
            "bytes": shard_bytes,
            "seconds": round(time.perf_counter() - start, 3),
            "worker": f"{socket.gethostname()}:{os.getpid()}",
        }
        # Written last: its presence marks the shard complete.
        write_bytes_atomically(paths["stats"], json.dumps(stats, sort_keys=True).encode())
        yield stats


class GenerateShards(beam.PTransform):
    """tasks -> spread over workers -> shards written; outputs per-shard stats. `resource_hints` (e.g. a GPU for a
    maker that runs a model) go on the make-and-write step only, not on listing and spreading the tasks."""

    def __init__(
        self, tasks: list[ShardTask], write_fn: WriteGeneratedShard, resource_hints: dict[str, str] | None = None
    ) -> None:
        super().__init__()
        self.tasks = tasks
        self.write_fn = write_fn
        self.resource_hints = resource_hints or {}

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        return (
            pbegin
            | "ShardTasks" >> beam.Create(self.tasks, reshuffle=False)
            # Break fusion so tasks spread over all workers instead of running where Create ran.
            | "Spread" >> beam.Reshuffle()
            | "MakeAndWrite" >> beam.ParDo(self.write_fn).with_resource_hints(**self.resource_hints)
        )
