"""Dead letters: every input that does not become a row becomes one of these, with its reason.

They are JSON lines under `OUTPUT/SUBSET/_rejected/`, one file per shard (or per stage for streamed inputs).
"""

import json
import traceback
from dataclasses import dataclass
from typing import Any


class RejectedExample(Exception):
    """Raised by example makers for an expected rejection: the input is bad, not the code."""

    def __init__(self, stage: str, reason: str, **details: Any) -> None:
        super().__init__(f"{stage}: {reason}")
        self.stage = stage
        self.reason = reason
        self.details = details


INPUT = "input"  # the dead letter stands for an input that did not become a row
PART = "part"  # a part of an input (one recording, one verdict line) that was dropped; the input went on


@dataclass(frozen=True)
class Rejected:
    """One dead letter: which input, at which stage, why."""

    subset: str
    input_ref: str  # example_id, or a path / URL for real inputs
    stage: str
    reason: str
    details: str = "{}"  # JSON
    level: str = INPUT  # INPUT or PART: only INPUT dead letters count against the kept share

    def to_json(self) -> str:
        return json.dumps(
            {
                "subset": self.subset,
                "input": self.input_ref,
                "stage": self.stage,
                "reason": self.reason,
                "level": self.level,
                "details": json.loads(self.details),
            },
            sort_keys=True,
        )


def rejected(subset: str, input_ref: str, stage: str, reason: str, *, level: str = INPUT, **details: Any) -> Rejected:
    return Rejected(subset, input_ref, stage, reason, json.dumps(details, sort_keys=True, default=str), level)


def reason_kind(reason: str) -> str:
    """The stable head of a reason (before any ':' or '(' detail), for counters: 'HTTP 404', 'not an image'."""
    head = reason.split(":", 1)[0].split(" (", 1)[0].strip()
    return head[:60] or "?"


def from_exception(subset: str, input_ref: str, stage: str, error: BaseException) -> Rejected:
    """A dead letter for an exception: expected rejections keep their reason, bugs keep their traceback tail."""
    if isinstance(error, RejectedExample):
        return rejected(subset, input_ref, error.stage, error.reason, **error.details)
    frames = traceback.format_exception(type(error), error, error.__traceback__)
    return rejected(subset, input_ref, stage, f"{type(error).__name__}: {error}", traceback="".join(frames)[-2000:])


def to_jsonl(records: list[Rejected]) -> bytes:
    ordered = sorted(records, key=lambda r: (r.input_ref, r.stage, r.reason))
    return "".join(r.to_json() + "\n" for r in ordered).encode()
