"""Duplicate rules, as pure functions the Beam grouping in pipelines/count/steps.py calls.

One rule for both kinds, so the outcome never depends on the order images arrive in: within a group of
duplicates the best copy is kept - the one with the smallest rank, which callers make from (fewest pixels
last, animated after still, then the key) - and every other one is a duplicate of the best copy it matches.

Near duplicates are found without comparing all pairs: the 64-bit perceptual hash is cut into
`max_distance + 1` bands; two hashes within `max_distance` bits agree exactly on at least one band
(pigeonhole), so grouping by (band index, band bits) puts every near pair together in some group.
Matching is not transitive: with A ~ B and B ~ C but not A ~ C, B and C are both dropped (C as a
duplicate of B). That is the price of a rule that is deterministic and local to each group.
"""

from collections.abc import Sequence
from typing import Any

HASH_BITS = 64


def hamming(a: str, b: str) -> int:
    """Bits that differ between two hex hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def near_duplicate_bands(phash: str, max_distance: int) -> list[str]:
    """The band keys of `phash`: two hashes within `max_distance` bits share at least one."""
    bands = max_distance + 1
    value = int(phash, 16)
    keys = []
    for band in range(bands):
        lo = HASH_BITS * band // bands
        hi = HASH_BITS * (band + 1) // bands
        bits = (value >> lo) & ((1 << (hi - lo)) - 1)
        keys.append(f"{band}/{bands}:{bits:x}")
    return keys


def copy_rank(pixels: int, animated: bool, key: str) -> tuple[int, bool, str]:
    """The order copies are kept in: the most pixels first, a still image before an animated one, then the key."""
    return (-pixels, animated, key)


def first_duplicate_of(members: Sequence[tuple[Any, str, str]], max_distance: int) -> dict[str, tuple[str, int]]:
    """For (rank, key, phash) members of one group: {key: (better key it duplicates, distance)} for each that
    matches a member of a better (smaller) rank; members that don't are absent (kept, as far as this group knows)."""
    ordered = sorted(set(members))
    out: dict[str, tuple[str, int]] = {}
    for i, (_, key, phash) in enumerate(ordered):
        for _, other_key, other_hash in ordered[:i]:
            if other_key == key:
                continue
            distance = hamming(phash, other_hash)
            if distance <= max_distance:
                out[key] = (other_key, distance)
                break  # `ordered` is by rank, so the first match is the best copy
    return out
