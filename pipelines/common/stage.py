"""The small base class of every record-flow step: its dead-letter stage name, and how it makes dead letters.

A step never routes its own dead letters: it returns `Rejected` values (or raises `Reject`) and the skeleton
(pipelines/common/record_flow.py) routes each one to `_rejected/` and counts it in a Beam Metrics counter
named by stage and reason, so no step can forget an output.
"""

from typing import Any, ClassVar

from apache_beam.metrics import Metrics

from pipelines.common.rejects import INPUT, PART, Rejected, reason_kind, rejected


class Reject(Exception):
    """Raised inside a step to drop the input it works on, with the reason (the skeleton makes the dead letter)."""

    def __init__(self, reason: str, *, stage: str | None = None, where: str | None = None, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.stage = stage
        self.where = where
        self.details = details


class Stage:
    """A named step of one subset. `stage` names its dead letters unless a call says otherwise."""

    stage: ClassVar[str] = ""

    def __init__(self, subset: str) -> None:
        self.subset = subset

    def rejected(self, where: str, reason: str, *, stage: str | None = None, part: bool = False, **details: Any):
        """A dead letter from this step. `part=True`: a part of the input was dropped and the input goes on."""
        return rejected(self.subset, where, stage or self.stage, reason, level=PART if part else INPUT, **details)

    def from_reject(self, error: Reject, where: str) -> Rejected:
        return self.rejected(error.where or where, error.reason, stage=error.stage, **error.details)


def count_reject(record: Rejected) -> None:
    """One Beam Metrics counter per subset, stage and kind of reason (the runner's UI and job metrics show them)."""
    Metrics.counter(f"pixmo.{record.subset}.rejects", f"{record.stage}: {reason_kind(record.reason)}").inc()
