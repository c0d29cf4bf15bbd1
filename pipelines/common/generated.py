"""The shard task pattern for subsets that make their own inputs (Clocks, Docs).

Each Beam element is a `ShardTask`; one DoFn call makes that shard's examples, validates them, and writes
the shard, its dead letters and its stats file. Image bytes never cross a process boundary, work is
deterministic per shard, and a shard whose stats file exists is done (an interrupted run resumes there).

A subset whose rows come from its own generator can validate a whole shard's Arrow table at once
(`validate_shard`, vectorised) instead of each row dict; the per-row `validate` then only runs if the rows
do not even convert to the schema. The stats file records where the shard's CPU time went (`stage_cpu_seconds`).
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


ShardValidator = Callable[[pa.Table], dict[int, list[str]]]  # problems by row position; rows absent are valid


class WriteGeneratedShard(beam.DoFn):
    """ShardTask -> (shard file, dead letters, stats file); outputs the stats dict."""

    def __init__(
        self,
        subset: str,
        maker: ExampleMaker,
        schema: pa.Schema,
        validate: Callable[[dict[str, Any]], list[str]],
        staging_dir: str,
        validate_shard: ShardValidator | None = None,
    ) -> None:
        self.subset = subset
        self.maker = maker
        self.schema = schema
        self.validate = validate
        self.validate_shard = validate_shard
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
        start, cpu_start, started_at = time.perf_counter(), time.process_time(), time.time()
        stages = _StageClock()
        progress = ProgressWriter(paths["progress"], len(task))
        made_rows, dead = [], []
        indices = list(range(task.start, task.stop))
        made = self._make(indices, task.split, progress)
        stages.lap("make")
        for index, row in zip(indices, made, strict=True):
            if isinstance(row, Exception):
                dead.append(from_exception(self.subset, f"{self.subset}:{index}", "generate", row))
            else:
                made_rows.append((index, row))
        table = self._valid_table(made_rows, dead, stages)
        shard_bytes = write_table(table, paths["shard"])
        stages.lap("parquet write")
        if dead:
            write_bytes_atomically(paths["rejected"], to_jsonl(dead))
        stats = {
            "split": task.split,
            "shard": task.shard,
            "num_shards": task.num_shards,
            "first_index": task.start,
            "stop_index": task.stop,
            "rows": table.num_rows,
            "rejected": len(dead),
            "rejected_by_stage": dict(Counter(d.stage for d in dead)),
            "bytes": shard_bytes,
            "seconds": round(time.perf_counter() - start, 3),
            "cpu_seconds": round(time.process_time() - cpu_start, 3),
            "started_at": round(started_at, 3),  # epoch seconds: when workers were busy, for start-up and tail
            "finished_at": round(time.time(), 3),
            "stage_cpu_seconds": stages.rounded(),
            "worker": f"{socket.gethostname()}:{os.getpid()}",
        }
        # Written last: its presence marks the shard complete.
        write_bytes_atomically(paths["stats"], json.dumps(stats, sort_keys=True).encode())
        yield stats

    def _make(self, indices: list[int], split: str, progress: ProgressWriter) -> list[dict[str, Any] | Exception]:
        try:
            made = self.maker.make_many(indices, split)
        except Exception as error:  # noqa: BLE001 - every failure becomes a dead letter, never a crash
            made = [error] * len(indices)
        progress.advance(len(indices))
        progress.flush()
        return made

    def _valid_table(self, made_rows: list[tuple[int, dict[str, Any]]], dead: list, stages: "_StageClock") -> pa.Table:
        """The shard's valid rows as a table; the others join `dead` (stage "validate")."""
        if self.validate_shard is not None:
            try:
                table = rows_to_table([row for _, row in made_rows], self.schema)
            except (pa.ArrowException, TypeError, ValueError, KeyError):
                table = None  # some row does not even fit the schema: find which, row by row, below
            stages.lap("arrow table")
            if table is not None:
                problems = self.validate_shard(table)
                if problems:
                    ids = table.column("example_id").to_pylist()
                    for position in sorted(problems):
                        dead.append(rejected(self.subset, ids[position], "validate", "; ".join(problems[position])))
                    keep = [position not in problems for position in range(table.num_rows)]
                    table = table.filter(pa.array(keep, pa.bool_()))
                stages.lap("validate")
                return table
        valid = []
        for index, row in made_rows:
            problems = self.validate(row)
            if problems:
                dead.append(rejected(self.subset, row.get("example_id", str(index)), "validate", "; ".join(problems)))
            else:
                valid.append(row)
        stages.lap("validate")
        table = rows_to_table(valid, self.schema)
        stages.lap("arrow table")
        return table


class _StageClock:
    """CPU seconds per stage of one shard, for its stats file (CPU, not wall: comparable on a busy machine)."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self._last = time.process_time()

    def lap(self, stage: str) -> None:
        now = time.process_time()
        self.seconds[stage] += now - self._last
        self._last = now

    def rounded(self) -> dict[str, float]:
        return {stage: round(seconds, 3) for stage, seconds in sorted(self.seconds.items())}


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
        # Largest tasks first, each under its own key: the local runner deals grouped keys out to its workers in
        # turn, so every worker gets about the same number of rows and none is left finishing a big shard alone.
        ordered = sorted(self.tasks, key=lambda task: (-len(task), task.split, task.shard))
        return (
            pbegin
            | "ShardTasks" >> beam.Create(list(enumerate(ordered)), reshuffle=False)
            # A grouping breaks fusion, so tasks spread over all workers instead of running where Create ran.
            | "Spread" >> beam.GroupByKey()
            | "Tasks" >> beam.FlatMap(lambda keyed: keyed[1])
            | "MakeAndWrite" >> beam.ParDo(self.write_fn).with_resource_hints(**self.resource_hints)
        )
