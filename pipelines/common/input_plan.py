"""Inputs listed on the driver, the first of each key kept, and cut into input shards by a stable hash.

An input shard is the unit of work and of resume (as in img2dataset): its rows and dead letters are written
together with a completion marker, and a rerun of the same command skips shards whose marker exists. The
plan id names the plan (every key and group, the shard count, what decides the rows), so work of another plan
is never mistaken for this one's.
"""

import hashlib
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pipelines.common.rejects import Rejected


@dataclass(frozen=True)
class InputRef:
    """One listed input. `key` is unique per input (the first listing of a key wins); `where` is what its dead
    letters name (a path, URL or path:line); inputs with the same `group` share a shard (an image's records)."""

    key: str
    where: str
    payload: Any = None  # what the subset's reader needs: a path, a parsed record (small, picklable)
    group: str = ""

    @property
    def shard_key(self) -> str:
        return self.group or self.key


@dataclass(frozen=True)
class Listing:
    refs: tuple[InputRef, ...]
    rejects: tuple[Rejected, ...] = ()


@dataclass(frozen=True)
class InputShard:
    index: int
    refs: tuple[InputRef, ...]

    @property
    def name(self) -> str:
        return f"shard-{self.index:05d}"

    def __len__(self) -> int:
        return len(self.refs)


@dataclass(frozen=True)
class InputPlan:
    plan_id: str
    shards: tuple[InputShard, ...]

    @property
    def total(self) -> int:
        return sum(len(s) for s in self.shards)


def stable_bucket(key: str, buckets: int) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % buckets


def keep_first(
    refs: Iterable[InputRef], duplicate: Callable[[InputRef, InputRef], Rejected]
) -> tuple[list[InputRef], list[Rejected]]:
    """Refs in listing order, the first of each key kept; `duplicate(first, other)` is the other's dead letter."""
    first: dict[str, InputRef] = {}
    kept, rejects = [], []
    for ref in refs:
        if ref.key in first:
            rejects.append(duplicate(first[ref.key], ref))
        else:
            first[ref.key] = ref
            kept.append(ref)
    return kept, rejects


def plan_inputs(refs: list[InputRef], shard_size: int, salt: str) -> InputPlan:
    """Shards of about `shard_size` inputs by a stable hash of each input's group; refs sorted by key inside.

    The shard count follows the number of inputs only, never the machine, so the same command on another
    machine (or with other --workers) resumes the same plan. `salt` holds what decides the rows."""
    count = max(1, math.ceil(len(refs) / max(1, shard_size)))
    members: list[list[InputRef]] = [[] for _ in range(count)]
    for ref in refs:
        members[stable_bucket(ref.shard_key, count)].append(ref)
    shards = tuple(InputShard(i, tuple(sorted(m, key=lambda r: r.key))) for i, m in enumerate(members) if m)
    digest = hashlib.sha256(salt.encode())
    digest.update(str(count).encode())
    for shard in shards:
        digest.update(json.dumps([shard.index, [(r.key, r.shard_key) for r in shard.refs]]).encode())
    return InputPlan(digest.hexdigest()[:12], shards)
