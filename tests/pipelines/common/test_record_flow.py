"""The record-flow skeleton on a toy subset with a scripted model: every step's dead letters reach `_rejected/`,
one input shard is one RunInference example answered in the model's own batch size, and plans are stable."""

import argparse
import json
from collections.abc import Iterable, Sequence
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.ml.inference.base import KeyedModelHandler, ModelHandler, RunInference
from apache_beam.testing.util import assert_that, equal_to

from pipelines.common.input_plan import InputRef, Listing, keep_first, plan_inputs
from pipelines.common.model_round import ShardBatchHandler, ShardRequests
from pipelines.common.options import add_common_arguments, in_process_pipeline
from pipelines.common.record_flow import (
    CommonOptions,
    Decision,
    ModelRound,
    Reader,
    Record,
    RecordSubset,
    ShardWork,
)
from pipelines.common.rejects import rejected
from pipelines.common.run import run_subset
from schemas.common import make_schema

TOY_SCHEMA = make_schema([pa.field("text", pa.string())], "toy-1")


class ToySchema:
    SCHEMA = TOY_SCHEMA
    SCHEMA_VERSION = "toy-1"

    @staticmethod
    def validate(row: dict[str, Any]) -> list[str]:
        return ["text: empty"] if not row["text"] else []


class UpperModel:
    """What RunInference holds (it keeps a weak reference: a plain str would not do)."""


class Upper(ModelHandler):
    """A scripted model: upper-cases each request; remembers the batch sizes it saw (in its own process)."""

    def __init__(self, batch_size: int = 2) -> None:
        super().__init__(min_batch_size=1, max_batch_size=batch_size)
        self.batches: list[int] = []

    def load_model(self) -> "UpperModel":
        return UpperModel()

    def run_inference(self, batch: Sequence[str], model: Any, inference_args: Any = None) -> Iterable[str]:
        self.batches.append(len(batch))
        return [text.upper() for text in batch]


class ToyReader(Reader):
    stage = "read"

    def read(self, refs):
        for ref in refs:
            if ref.key == "b":
                yield ref, self.rejected(ref.where, "unreadable b")
            else:
                yield ref, Record(ref.key, ref.where, f"toy-{ref.key}", data=ref.payload)


class Shout(ModelRound):
    name = "Shout"
    stage = "shout"

    def handler(self) -> ModelHandler:
        return Upper()

    def requests(self, record: Record):
        if record.key == "d":
            return self.rejected(record.where, "d is not to be shouted")  # drops the record
        parts: list[Any] = [("body", record.data)]
        if record.key == "c":
            parts.append(self.rejected(record.where, "c's second part is bad", part=True))
        return parts


class Toy(RecordSubset):
    name = "toy"
    summary = "toy"
    schema = ToySchema
    input_shard_size = 2
    has_decisions = True
    stats_columns = ("text",)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        pass

    def parse(self, args, dry_run=False):
        return CommonOptions(args.splits, args.seed, "test"), []

    def fingerprint(self, options):
        return {}

    def list_inputs(self, options) -> Listing:
        keys = ["a", "b", "c", "d", "e", "f", "g", "a"]  # "a" listed twice
        bad = rejected(self.name, "h.txt", "input", "unsupported type .txt")
        return Listing(tuple(InputRef(k, f"{k}.txt", f"text of {k}") for k in keys), (bad,))

    def reader(self, options):
        return ToyReader(self.name)

    def rounds(self, options):
        return [Shout(self.name)]

    def build_row(self, record: Record, options):
        if record.key == "e":
            return rejected(self.name, record.where, "build", "e cannot be a row")
        text = record.results["Shout"]["body"]
        row = {"example_id": record.example_id, "image": None, "image_sha256": "", "source": "toy", "text": text}
        row["provenance"] = None
        if record.key == "g":
            row["text"] = ""  # fails validation in the sink
        return row

    def light_fields(self, row):
        return {"text": row["text"]}

    def decisions(self, light, options):
        dup = rejected(self.name, "f.txt", "dedup", "duplicate of a")
        decisions = light | beam.FlatMap(lambda kv: [(kv[0], Decision(drop=dup))] if kv[0] == "toy-f" else [])
        return decisions, light.pipeline | "NoMore" >> beam.Create([])

    def plot_stats(self, report, out_dir):
        return []

    def preview_item(self, row):
        raise NotImplementedError

    def card_description(self, options, report):
        return "toy"


def toy_args(tmp_path, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_common_arguments(parser, None, "train=1")
    argv = ["--output", str(tmp_path), "--workers", "1", "--no-progress", "--preview-rows", "0", *extra]
    return parser.parse_args(argv)


def test_every_steps_dead_letters_reach_rejected(tmp_path):
    args = toy_args(tmp_path)
    subset = Toy()
    options, _ = subset.parse(args)
    result = run_subset(subset, options, args, [])
    assert result.exit_code == 0
    root = tmp_path / "toy"
    rows = pq.read_table(str(root / "train")).to_pylist()
    assert [(r["example_id"], r["text"]) for r in rows] == [("toy-a", "TEXT OF A"), ("toy-c", "TEXT OF C")]
    dead = [json.loads(line) for f in (root / "_rejected").glob("*.jsonl") for line in f.read_text().splitlines()]
    found = sorted((d["input"], d["stage"], d["level"]) for d in dead)
    assert found == [
        ("a.txt", "duplicate", "input"),  # keep-first, on the driver
        ("b.txt", "read", "input"),  # the reader
        ("c.txt", "shout", "part"),  # a round, part of an input that still became a row
        ("d.txt", "shout", "input"),  # a round, dropping its input
        ("e.txt", "build", "input"),  # build_row
        ("f.txt", "dedup", "input"),  # a whole-run decision
        ("h.txt", "input", "input"),  # the listing
        ("toy-g", "validate", "input"),  # the sink's validation
    ]
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["rows"] == 2 and manifest["rejected"] == 8
    assert not (root / "_work").exists()  # work files hold a second copy of the rows: never published


def test_one_shard_is_one_example_answered_in_the_models_batches():
    handler = ShardBatchHandler(Upper(batch_size=2))
    work = ShardWork(0, 3, [], [], 0.0)
    requests = [("shard-0", ShardRequests(work, [(0, "p"), (1, "p"), (2, "p")], ["x", "y", "z"]))]
    with in_process_pipeline() as pipeline:
        answered = (
            pipeline
            | beam.Create(requests)
            | RunInference(KeyedModelHandler(handler))
            | beam.Map(lambda kv: (kv[0], kv[1].results))
        )
        assert_that(answered, equal_to([("shard-0", ["X", "Y", "Z"])]))
    model = handler.load_model()
    list(handler.run_inference([requests[0][1]], model))
    assert handler.inner.batches == [2, 1]  # the shard's 3 requests in the inner handler's batches of 2


def test_plans_are_stable_and_keep_the_first_of_each_key():
    refs = [InputRef(f"k{i}", f"k{i}.jpg") for i in range(50)]
    plan = plan_inputs(refs, shard_size=8, salt="s")
    assert plan.total == 50 and len(plan.shards) <= 7
    assert plan_inputs(list(reversed(refs)), 8, "s") == plan  # the order of listing does not matter
    assert plan_inputs(refs, 8, "other").plan_id != plan.plan_id
    assert plan_inputs(refs, 5, "s").plan_id != plan.plan_id
    grouped = [InputRef(f"r{i}", "w", group="one image") for i in range(5)]
    assert len(plan_inputs(grouped, 1, "s").shards) == 1  # a group never spans shards
    kept, dups = keep_first(refs[:3] + refs[:1], lambda first, other: rejected("t", other.where, "dup", first.key))
    assert [r.key for r in kept] == ["k0", "k1", "k2"] and [d.reason for d in dups] == ["k0"]


def test_a_reader_that_forgets_an_input_or_crashes_loses_nothing(tmp_path):
    from pipelines.common.input_plan import InputShard
    from pipelines.common.record_flow import _ReadShard

    class Forgetful(Reader):
        def read(self, refs):
            yield refs[0], Record(refs[0].key, refs[0].where, "x")

    class Crashing(Reader):
        def read(self, refs):
            yield refs[0], Record(refs[0].key, refs[0].where, "x")
            raise RuntimeError("boom")

    shard = InputShard(0, (InputRef("a", "a.txt"), InputRef("b", "b.txt")))
    (work,) = _ReadShard(Forgetful("toy")).process(shard)
    assert [r.key for r in work.records] == ["a"] and [d.input_ref for d in work.rejects] == ["b.txt"]
    (work,) = _ReadShard(Crashing("toy")).process(shard)
    assert [r.key for r in work.records] == ["a"]
    assert [(d.input_ref, d.reason) for d in work.rejects] == [("b.txt", "RuntimeError: boom")]


@pytest.mark.parametrize("subset_name", ["cap", "capqa", "count", "points", "ama"])
def test_every_record_subset_is_on_the_skeleton(subset_name):
    from pipelines.registry import load

    assert isinstance(load(subset_name), RecordSubset)
