"""The run report: everything the plots, the preview, the card and the publish check need, read once after the job.

Built by the driver from what the job wrote (shard stats, the small columns of the shards, the dead letters and the
small JSON results under `_report/`), then handed to the subset; no report step reads files on its own or depends
on the order the others ran in.
"""

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from pipelines.common.rejects import INPUT


@dataclass
class RunReport:
    table: pa.Table  # the subset's stats_columns of every row
    rejects: list[dict[str, Any]]  # every dead letter, as written to _rejected/
    shard_stats: list[dict[str, Any]]
    totals: dict[str, Any]  # rows per split, rejects by stage (pipelines/common/manifest.py)
    extras: dict[str, Any] = field(default_factory=dict)  # _report/NAME.json -> extras[NAME]
    requested_splits: dict[str, int] = field(default_factory=dict)  # exact sizes asked for, when --splits gave them

    @property
    def rows(self) -> int:
        return int(self.totals["rows"])

    @property
    def rejected_inputs(self) -> int:
        """Dead letters that stand for a whole input (not a dropped recording or verdict line)."""
        return sum(1 for r in self.rejects if r.get("level", INPUT) == INPUT)

    @property
    def kept_share(self) -> float:
        inputs = self.rows + self.rejected_inputs
        return self.rows / inputs if inputs else 0.0

    def split_rows(self) -> dict[str, int]:
        return {split: int(s["rows"]) for split, s in self.totals["splits"].items()}

    def short_splits(self) -> dict[str, tuple[int, int]]:
        """Splits given an exact size that got fewer rows: name -> (asked, got)."""
        got = self.split_rows()
        asked = self.requested_splits
        return {name: (n, got.get(name, 0)) for name, n in asked.items() if got.get(name, 0) < n}
