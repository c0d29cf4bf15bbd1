"""A record flow's model round as Beam steps: Plan{name} -> {name} (RunInference) -> Attach{name}.

One input shard is ONE RunInference example (`ShardBatchHandler`): the inner handler answers the shard's requests
in batches of its own size, so no shuffle separates a shard's reading from its writing. Kept apart from
record_flow.py because Beam's RunInference imports torch, which a flow without models never needs.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import KeyedModelHandler, ModelHandler, RunInference

from pipelines.common.record_flow import METRICS, ModelRound, ShardWork, traceback_reject
from pipelines.common.rejects import Rejected
from pipelines.common.stage import Reject


def apply_round(work: beam.PCollection, model_round: ModelRound) -> beam.PCollection:
    """ShardWork -> ShardWork with `model_round`'s results; its resource hints go on the model step only."""
    inference = RunInference(KeyedModelHandler(ShardBatchHandler(model_round.handler())))
    if model_round.resource_hints:
        inference = inference.with_resource_hints(**model_round.resource_hints)
    return (
        work
        | f"Plan{model_round.name}" >> beam.ParDo(_PlanRound(model_round))
        | model_round.name >> inference
        | f"Attach{model_round.name}" >> beam.ParDo(_AttachRound(model_round))
    )


@dataclass
class ShardRequests:
    work: ShardWork
    owners: list[tuple[int, str]]  # (record index, part) of each request
    requests: list[Any]


@dataclass
class ShardResults:
    work: ShardWork
    owners: list[tuple[int, str]]
    results: list[Any]


class ShardBatchHandler(ModelHandler[ShardRequests, ShardResults, Any]):
    """RunInference over one input shard at a time: the inner handler answers the shard's requests in batches of
    its own size. Loading, sharing across processes and metrics are the inner handler's."""

    def __init__(self, inner: ModelHandler) -> None:
        super().__init__(min_batch_size=1, max_batch_size=1)
        self.inner = inner
        self.inner_batch = max(1, int(inner.batch_elements_kwargs().get("max_batch_size", 8)))

    def load_model(self) -> Any:
        return self.inner.load_model()

    def run_inference(
        self, batch: Sequence[ShardRequests], model: Any, inference_args: dict[str, Any] | None = None
    ) -> Iterable[ShardResults]:
        out = []
        for item in batch:
            Metrics.counter(METRICS, f"{self.get_metrics_namespace()}_requests").inc(len(item.requests))
            results: list[Any] = []
            for start in range(0, len(item.requests), self.inner_batch):
                chunk = item.requests[start : start + self.inner_batch]
                results += list(self.inner.run_inference(chunk, model, inference_args))
            if len(results) != len(item.requests):
                raise RuntimeError(f"{type(self.inner).__name__} answered {len(results)} of {len(item.requests)}")
            out.append(ShardResults(item.work, item.owners, results))
        return out

    def share_model_across_processes(self) -> bool:
        return self.inner.share_model_across_processes()

    def get_metrics_namespace(self) -> str:
        return self.inner.get_metrics_namespace()

    def batch_elements_kwargs(self) -> dict[str, Any]:
        return {"min_batch_size": 1, "max_batch_size": 1}


class _PlanRound(beam.DoFn):
    def __init__(self, model_round: ModelRound) -> None:
        self.round = model_round

    def process(self, work: ShardWork) -> Iterator[tuple[str, ShardRequests]]:
        kept, owners, requests = [], [], []
        for record in work.records:
            try:
                made = self.round.requests(record)
            except Reject as error:
                made = self.round.from_reject(error, record.where)
            except Exception as error:  # noqa: BLE001 - a bug in one record's requests drops that record only
                made = traceback_reject(self.round, record.where, error)
            if isinstance(made, Rejected):
                work.rejects.append(made)
                continue
            index = len(kept)
            kept.append(record)
            record.results[self.round.name] = {}
            for item in made:
                if isinstance(item, Rejected):
                    work.rejects.append(item)
                else:
                    part, request = item
                    owners.append((index, part))
                    requests.append(request)
        work.records = kept
        yield f"shard-{work.index:05d}", ShardRequests(work, owners, requests)


class _AttachRound(beam.DoFn):
    def __init__(self, model_round: ModelRound) -> None:
        self.round = model_round

    def process(self, keyed: tuple[str, ShardResults]) -> Iterator[ShardWork]:
        _, answered = keyed
        for (index, part), result in zip(answered.owners, answered.results, strict=True):
            answered.work.records[index].results[self.round.name][part] = result
        yield answered.work
