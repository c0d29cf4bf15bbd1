"""manifest.json: what a finished run made and how. Written last; its presence means the run completed."""

import datetime
import json
import sys
from collections import Counter
from typing import Any


def aggregate_shard_stats(stats: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-split rows, shards and bytes, and reject counts, from the stats files.

    Shard stats carry a split; dead-letter file stats (streamed subsets) carry only reject counts.
    """
    splits: dict[str, dict[str, int]] = {}
    by_stage: Counter[str] = Counter()
    rejected = 0
    for s in stats:
        rejected += s["rejected"]
        by_stage.update(s.get("rejected_by_stage", {}))
        if "split" not in s:
            continue
        split = splits.setdefault(s["split"], {"rows": 0, "shards": 0, "bytes": 0, "rejected": 0})
        split["rows"] += s["rows"]
        split["shards"] += 1
        split["bytes"] += s["bytes"]
        split["rejected"] += s["rejected"]
    return {
        "splits": dict(sorted(splits.items(), key=lambda kv: _split_order(kv[0]))),
        "rows": sum(s["rows"] for s in splits.values()),
        "rejected": rejected,
        "rejected_by_stage": dict(sorted(by_stage.items())),
    }


def _split_order(name: str) -> tuple[int, str]:
    known = ("train", "validation", "test")
    return (known.index(name) if name in known else len(known), name)


def build_manifest(
    *,
    subset: str,
    schema_version: str,
    code_version: str,
    generator_version: str,
    models: list[str],
    arguments: dict[str, Any],
    seed: int,
    totals: dict[str, Any],
    timings: dict[str, float],
    files: list[dict[str, Any]],
    runner: str,
) -> dict[str, Any]:
    return {
        "subset": subset,
        "complete": True,
        "created_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "schema_version": schema_version,
        "code_version": code_version,
        "generator_version": generator_version,
        "models": models,
        "seed": seed,
        "command": sys.argv,
        "arguments": arguments,
        "runner": runner,
        **totals,
        "timings_s": timings,
        "files": files,
    }


def to_json(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n").encode()
