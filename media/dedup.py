"""Duplicate rules, as pure functions the Beam grouping in pipelines/common/image_source.py calls.

One rule for both kinds, so the outcome never depends on the order images arrive in: within a group of
duplicates the image with the smallest key is kept and every other one is a duplicate of the smallest key
it matches.

Near duplicates are found without comparing all pairs: the 64-bit perceptual hash is cut into
`max_distance + 1` bands; two hashes within `max_distance` bits agree exactly on at least one band
(pigeonhole), so grouping by (band index, band bits) puts every near pair together in some group.
Matching is not transitive: with A ~ B and B ~ C but not A ~ C, B and C are both dropped (C as a
duplicate of B). That is the price of a rule that is deterministic and local to each group.
"""

from collections.abc import Sequence

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


def first_duplicate_of(members: Sequence[tuple[str, str]], max_distance: int) -> dict[str, tuple[str, int]]:
    """For (key, phash) members of one group: {key: (smaller key it duplicates, distance)} for each that
    matches a member with a smaller key; members that don't are absent (kept, as far as this group knows)."""
    ordered = sorted(set(members))
    out: dict[str, tuple[str, int]] = {}
    for i, (key, phash) in enumerate(ordered):
        for other_key, other_hash in ordered[:i]:
            if other_key == key:
                continue
            distance = hamming(phash, other_hash)
            if distance <= max_distance:
                out[key] = (other_key, distance)
                break  # `ordered` is by key, so the first match is the smallest key
    return out
