"""The record-flow skeleton for the subsets over real inputs (Cap, CapQA, Count, Points, AMA).

A subset supplies its options (parsed once, frozen), `list_inputs` (on the driver: inputs -> InputRefs and dead
letters), a reader (one input shard -> Records and dead letters, through pipelines/common/media_loader.py), its
model rounds (each a visible KeyedModelHandler + RunInference step), a pure `build_row`, and optionally
decisions that need every row (Count: duplicates, balanced held-out splits, people's verdicts). The skeleton
owns the rest:

    driver  list inputs ─ keep the first of each key ─ plan input shards (stable hash) ─ skip the done ones
    work    todo shards ─ Reshuffle ─ Read ─ [Plan ─ RunInference ─ Attach] per round ─ BuildRows ─ WriteWork
    final   every shard (after all work) ─ [decisions on light rows] ─ Finalize ─ WriteRowsAndRejects

One input shard travels through every work step as ONE element (a RunInference batch is one shard's requests,
cut into the model's own batch size), so there is no shuffle between reading and writing a shard: its work file
and completion marker are written the moment it is done, and a killed run keeps every finished shard. Image
bytes never pass through a join; they leave the work file once, into the output shards, where rows are
validated once. Dead letters of every step reach `_rejected/` through one Flatten built here, counted per stage
and reason.
"""

import dataclasses
import json
import logging
import os
import pickle
import socket
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from pipelines.common.input_plan import InputPlan, InputRef, InputShard, Listing, keep_first, plan_inputs
from pipelines.common.media_loader import LoadedImage
from pipelines.common.rejects import Rejected, rejected
from pipelines.common.shards import read_bytes, write_bytes_atomically
from pipelines.common.sink import WriteRowsAndRejects
from pipelines.common.splits import SplitSpec
from pipelines.common.stage import Reject, Stage, count_reject
from pipelines.common.staging import join
from pipelines.common.subset import RunContext, Subset

if TYPE_CHECKING:
    from apache_beam.ml.inference.base import ModelHandler

log = logging.getLogger("pixmo")

METRICS = "pixmo.record_flow"  # Beam Metrics namespace of the skeleton's own counters
WORK = "_work"
REPORT = "_report"


@dataclass(frozen=True)
class CommonOptions:
    """What every record-flow subset's options hold (subsets extend this frozen dataclass with their own)."""

    splits: str
    seed: int
    code_version: str


@dataclass
class Record:
    """One input on its way to a row: what the reader made of it, and each round's results by part."""

    key: str
    where: str  # what its dead letters name
    example_id: str
    data: Any = None  # the subset's own (a parsed record, a caption ...): picklable
    image: LoadedImage | None = None
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # round name -> part -> result


@dataclass(frozen=True)
class Decision:
    """What a subset's whole-run decisions say about one row (one per example_id)."""

    split: str | None = None  # overrides the row's split
    drop: Rejected | None = None  # the row is not kept; this is its dead letter
    update: Any = None  # handed to the subset's `apply_update` (Count: a person's verdict)


class Reader(Stage):
    """One input shard's refs -> (ref, its Record or its dead letter) for every ref, in any order."""

    def read(self, refs: Sequence[InputRef]) -> Iterator[tuple[InputRef, Record | Rejected]]:
        raise NotImplementedError


class ModelRound(Stage):
    """One model step: which requests each record makes, and the ModelHandler that answers them.

    `requests(record)` returns [(part, request)] and, mixed in, dead letters of parts that go no further
    (Rejected with part=True; the record goes on); a bare Rejected (or raising Reject) drops the record. The
    results land in `record.results[self.name][part]`, where later rounds and `build_row` read them."""

    name: str = ""  # the Beam step: "Detect", "Transcribe", "Caption" ...

    def __init__(self, subset: str, resource_hints: dict[str, str] | None = None) -> None:
        super().__init__(subset)
        self.resource_hints = dict(resource_hints or {})

    def handler(self) -> "ModelHandler":
        raise NotImplementedError

    def requests(self, record: Record) -> Rejected | list[tuple[str, Any] | Rejected]:
        raise NotImplementedError


@dataclass
class ShardWork:
    """An input shard between work steps: its records so far and its dead letters so far."""

    index: int
    size: int
    records: list[Record]
    rejects: list[Rejected]
    started: float


def traceback_reject(stage: Stage, where: str, error: BaseException) -> Rejected:
    frames = "".join(traceback.format_exception(type(error), error, error.__traceback__))[-2000:]
    return stage.rejected(where, f"{type(error).__name__}: {error}", traceback=frames)


class _ReadShard(beam.DoFn):
    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    def process(self, shard: InputShard) -> Iterator[ShardWork]:
        started = time.perf_counter()
        Metrics.counter(METRICS, "input_shards_read").inc()
        outcome: dict[str, Record | Rejected] = {}
        try:
            for ref, item in self.reader.read(shard.refs):
                outcome[ref.key] = item
        except Exception as error:  # noqa: BLE001 - a reader bug is its inputs' dead letters, not a crash
            failure = traceback_reject(self.reader, "", error)
            for ref in shard.refs:
                outcome.setdefault(ref.key, dataclasses.replace(failure, input_ref=ref.where))
        for ref in shard.refs:  # a reader that forgets an input must not lose it
            if ref.key not in outcome:
                outcome[ref.key] = self.reader.rejected(ref.where, "the reader gave neither a record nor a reason")
        records = sorted((o for o in outcome.values() if isinstance(o, Record)), key=lambda r: r.key)
        rejects = [o for o in outcome.values() if isinstance(o, Rejected)]
        # Downloads finish in any order; sorting by key keeps every model batch the same on every run.
        yield ShardWork(shard.index, len(shard), records, rejects, started)


class _BuildStage(Stage):
    stage = "build"


class _BuildRows(beam.DoFn):
    """Records -> (split, row) by the subset's pure build_row: a row, a Rejected (or Reject) for the record, or a
    list of both (at most one row; Rejected with part=True for parts of a record that became a row)."""

    def __init__(self, subset: "RecordSubset", options: Any) -> None:
        self.subset = subset
        self.options = options

    def process(self, work: ShardWork) -> Iterator[tuple[ShardWork, list[tuple[str, dict[str, Any]]]]]:
        stage = _BuildStage(self.subset.name)
        rows = []
        for record in work.records:
            try:
                built = self.subset.build_row(record, self.options)
            except Reject as error:
                built = stage.from_reject(error, record.where)
            except Exception as error:  # noqa: BLE001 - a bug for one record is its dead letter
                built = traceback_reject(stage, record.where, error)
            for item in built if isinstance(built, list) else [built]:
                if isinstance(item, Rejected):
                    work.rejects.append(item)
                else:
                    rows.append((self.subset.split_of(item, record, self.options), item))
        yield work, rows


# -- work files: one input shard's rows, dead letters and completion marker --


def work_dir(staging_dir: str, plan_id: str) -> str:
    return join(staging_dir, WORK, plan_id)


def work_paths(staging_dir: str, plan_id: str, index: int) -> dict[str, str]:
    base = join(work_dir(staging_dir, plan_id), f"shard-{index:05d}")
    return {"rows": base + ".rows.pkl", "light": base + ".light.pkl", "done": base + ".done.json"}


def done_shards(staging_dir: str, plan: InputPlan) -> set[int]:
    """Shards of this plan whose completion marker exists (written last, so their files are whole)."""
    done = set()
    for shard in plan.shards:
        paths = work_paths(staging_dir, plan.plan_id, shard.index)
        if FileSystems.exists(paths["done"]) and FileSystems.exists(paths["rows"]):
            done.add(shard.index)
    return done


class _WriteWork(beam.DoFn):
    def __init__(self, subset: "RecordSubset", staging_dir: str, plan_id: str) -> None:
        self.subset = subset
        self.staging_dir = staging_dir
        self.plan_id = plan_id

    def process(self, element: tuple[ShardWork, list[tuple[str, dict[str, Any]]]]) -> Iterator[dict[str, Any]]:
        work, rows = element
        paths = work_paths(self.staging_dir, self.plan_id, work.index)
        rows.sort(key=lambda sr: sr[1]["example_id"])
        work.rejects.sort(key=lambda r: (r.input_ref, r.stage, r.reason))
        light = [(row["example_id"], split, self.subset.light_fields(row)) for split, row in rows]
        write_bytes_atomically(paths["rows"], pickle.dumps({"rows": rows, "rejects": work.rejects}, protocol=5))
        write_bytes_atomically(paths["light"], pickle.dumps(light, protocol=5))
        stats = {
            "plan": self.plan_id,
            "shard": work.index,
            "inputs": work.size,
            "rows": len(rows),
            "rejected": len(work.rejects),
            "seconds": round(time.perf_counter() - work.started, 3),
            "worker": f"{socket.gethostname()}:{os.getpid()}",
        }
        write_bytes_atomically(paths["done"], json.dumps(stats, sort_keys=True).encode())  # last: the marker
        progress = join(self.staging_dir, "_progress", f"shard-{work.index:05d}.json")
        write_bytes_atomically(progress, json.dumps({"done": work.size, "total": work.size}).encode())
        yield stats


class _ReadLight(beam.DoFn):
    def __init__(self, staging_dir: str, plan_id: str) -> None:
        self.staging_dir = staging_dir
        self.plan_id = plan_id

    def process(self, index: int, _barrier: Any) -> Iterator[tuple[str, tuple[str, dict[str, Any]]]]:
        path = work_paths(self.staging_dir, self.plan_id, index)["light"]
        for example_id, split, light in pickle.loads(read_bytes(path)):
            yield example_id, (split, light)


class _Finalize(beam.DoFn):
    """A work file -> its (split, row) pairs with the run's decisions applied, and its dead letters."""

    REJECTS = "rejects"

    def __init__(self, subset: "RecordSubset", options: Any, staging_dir: str, plan_id: str) -> None:
        self.subset = subset
        self.options = options
        self.staging_dir = staging_dir
        self.plan_id = plan_id

    def process(self, index: int, _barrier: Any, decisions: dict[str, Decision]) -> Iterator[Any]:
        stored = pickle.loads(read_bytes(work_paths(self.staging_dir, self.plan_id, index)["rows"]))
        for dead in stored["rejects"]:
            yield beam.pvalue.TaggedOutput(self.REJECTS, dead)
        for split, row in stored["rows"]:
            decision = decisions.get(row["example_id"])
            if decision is None:
                yield split, row
                continue
            if decision.drop is not None:
                yield beam.pvalue.TaggedOutput(self.REJECTS, decision.drop)
                continue
            split = decision.split or split
            if decision.update is not None:
                row = self.subset.apply_update(row, split, decision.update)
            yield split, row


class _CountRejects(beam.DoFn):
    def process(self, record: Rejected) -> Iterator[Rejected]:
        count_reject(record)
        yield record


class RecordFlow(beam.PTransform):
    """pipeline | RecordFlow(...) : the work on the shards still to do, then the whole run's rows and dead letters
    written by the sink; outputs the sink's stats. `listing_rejects` are the driver's dead letters."""

    def __init__(
        self,
        subset: "RecordSubset",
        options: Any,
        plan: InputPlan,
        todo: list[InputShard],
        listing_rejects: Sequence[Rejected],
        staging_dir: str,
        rows_per_shard: int,
        num_shards: int | None,
    ) -> None:
        super().__init__()
        self.subset = subset
        self.options = options
        self.plan = plan
        self.todo = todo
        self.listing_rejects = list(listing_rejects)
        self.staging_dir = staging_dir
        self.rows_per_shard = rows_per_shard
        self.num_shards = num_shards

    def expand(self, pbegin):  # no type hints: Beam would try (and fail) to read them as element types
        subset, options = self.subset, self.options
        work = (
            pbegin
            | "InputShards" >> beam.Create(self.todo, reshuffle=False)
            # Break fusion so shards spread over every worker instead of running where Create ran.
            | "Spread" >> beam.Reshuffle()
            | "Read" >> beam.ParDo(_ReadShard(subset.reader(options)))
        )
        for model_round in subset.rounds(options):
            # Imported here: Beam's RunInference imports torch (3.5 s), which a flow without models never needs.
            from pipelines.common.model_round import apply_round

            work = apply_round(work, model_round)
        written = (
            work
            | "BuildRows" >> beam.ParDo(_BuildRows(subset, options))
            | "WriteWork" >> beam.ParDo(_WriteWork(subset, self.staging_dir, self.plan.plan_id))
        )
        # Every shard's work file exists once this is computed: the barrier before the whole-run steps.
        barrier = beam.pvalue.AsSingleton(written | "WorkDone" >> beam.combiners.Count.Globally())
        every = [shard.index for shard in self.plan.shards]
        pipeline = pbegin.pipeline
        extra_rejects = []
        decisions: Any = pipeline | "NoDecisions" >> beam.Create([])
        if subset.has_decisions:
            light = (
                pipeline
                | "AllShardsLight" >> beam.Create(every)
                | "ReadLight" >> beam.ParDo(_ReadLight(self.staging_dir, self.plan.plan_id), barrier)
            )
            decisions, decision_rejects = subset.decisions(light, options)
            extra_rejects.append(decision_rejects)
        final = (
            pipeline
            | "AllShards" >> beam.Create(every)
            | "Finalize"
            >> beam.ParDo(
                _Finalize(subset, options, self.staging_dir, self.plan.plan_id), barrier, beam.pvalue.AsDict(decisions)
            ).with_outputs(_Finalize.REJECTS, main="rows")
        )
        subset.extra_outputs(final.rows, options, self.staging_dir)
        rejects = (
            (pipeline | "ListingRejects" >> beam.Create(self.listing_rejects), final[_Finalize.REJECTS], *extra_rejects)
            | "AllRejects" >> beam.Flatten()
            | "CountRejects" >> beam.ParDo(_CountRejects())
        )
        sink = WriteRowsAndRejects(
            subset.name,
            subset.schema.SCHEMA,
            subset.schema.validate,
            self.staging_dir,
            rows_per_shard=self.rows_per_shard,
            num_shards=self.num_shards,
        )
        return (final.rows, rejects) | "Write" >> sink


def write_report_extra(staging_dir: str, name: str, data: Any) -> None:
    """A small JSON result of the job for the run report (RunReport.extras[name]); see pipelines/common/report.py."""
    write_bytes_atomically(join(staging_dir, REPORT, name + ".json"), json.dumps(data, sort_keys=True).encode())


@dataclass
class Prepared:
    """What the driver settled before the graph: the plan, the shards still to do, the listing's dead letters."""

    plan: InputPlan
    todo: list[InputShard]
    listing_rejects: list[Rejected]
    done: int = 0  # input shards kept from an interrupted run


class RecordSubset(Subset):
    """A subset over real inputs: implement the hooks below; the skeleton and pipelines/common/run.py do the rest."""

    input_shard_size: int = 64  # inputs per work unit (what a resumed run keeps); --input-shard-size overrides
    min_keep = 0.05
    has_decisions: bool = False  # True: `decisions` runs over every row before the output is written

    def list_inputs(self, options: Any) -> Listing:
        """On the driver: every input, in listing order (duplicates of a key included: the skeleton keeps the
        first), and dead letters for what cannot be listed."""
        raise NotImplementedError

    def duplicate_rejected(self, first: InputRef, other: InputRef) -> Rejected:
        return rejected(
            self.name, other.where, "duplicate", f"{other.key!r} is listed again; kept the first, at {first.where}"
        )

    def reader(self, options: Any) -> Reader:
        raise NotImplementedError

    def rounds(self, options: Any) -> list[ModelRound]:
        return []

    def build_row(self, record: Record, options: Any) -> dict[str, Any] | Rejected | list[dict[str, Any] | Rejected]:
        """The record's row or its dead letter (or a list: the row, or none, and dead letters of its parts)."""
        raise NotImplementedError

    def split_of(self, row: dict[str, Any], record: Record, options: Any) -> str:
        """The row's split (default: a stable hash of its example_id, salted with the subset and seed)."""
        return SplitSpec.parse(options.splits).split_for_key(row["example_id"], salt=f"{self.name}:{options.seed}")

    def light_fields(self, row: dict[str, Any]) -> dict[str, Any]:
        """The few fields `decisions` needs of each row (never the image bytes)."""
        return {}

    def decisions(self, light: beam.PCollection, options: Any) -> tuple[beam.PCollection, beam.PCollection]:
        """(example_id, (split, light fields)) of every row -> ((example_id, Decision), dead letters)."""
        raise NotImplementedError

    def apply_update(self, row: dict[str, Any], split: str, update: Any) -> dict[str, Any]:
        return row

    def extra_outputs(self, final_rows: beam.PCollection, options: Any, staging_dir: str) -> None:
        """Anything else the job writes from the final (split, row) pairs (Count: the verification tasks)."""

    # -- driven by run.py --

    def prepare(self, ctx: RunContext, out: Any) -> None:
        if ctx.dry_run:  # build the graph without touching inputs or the (maybe remote) output
            plan = InputPlan("dry-run", (InputShard(0, ()),))
            ctx.prepared = Prepared(plan, list(plan.shards), [])
            return
        listing = self.list_inputs(ctx.options)
        refs, duplicates = keep_first(listing.refs, self.duplicate_rejected)
        shard_size = ctx.args.input_shard_size or self.input_shard_size
        plan = plan_inputs(refs, shard_size, salt=ctx.staging.run_id)
        ctx.staging.clear_all_but(join(WORK, plan.plan_id))  # other plans' work and every derived file go
        done = done_shards(ctx.staging.dir, plan)
        todo = [shard for shard in plan.shards if shard.index not in done]
        for shard in plan.shards:
            if shard.index in done:  # the progress line starts from what is kept
                progress = ctx.staging.path("_progress", f"{shard.name}.json")
                write_bytes_atomically(progress, json.dumps({"done": len(shard), "total": len(shard)}).encode())
        ctx.total_examples = plan.total
        ctx.prepared = Prepared(plan, todo, list(listing.rejects) + duplicates, len(done))
        listed = f"{plan.total} inputs in {len(plan.shards)} input shards"
        if listing.rejects or duplicates:
            listed += f" ({len(listing.rejects) + len(duplicates)} not usable, see _rejected/)"
        print(f"{self.name}: {listed}", file=out)
        if done:
            kept = sum(len(s) for s in plan.shards if s.index in done)
            print(
                f"{self.name}: resuming: {len(done)} of {len(plan.shards)} input shards done ({kept} inputs), "
                f"{len(todo)} to go",
                file=out,
            )

    def build(self, pipeline: beam.Pipeline, ctx: RunContext) -> None:
        prepared: Prepared = ctx.prepared
        _ = pipeline | "Records" >> RecordFlow(
            self,
            ctx.options,
            prepared.plan,
            prepared.todo,
            prepared.listing_rejects,
            ctx.staging.dir,
            rows_per_shard=ctx.args.rows_per_shard,
            num_shards=ctx.args.num_shards,
        )
