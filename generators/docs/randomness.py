"""Every random choice of a Docs example derives from (seed, purpose, index), so a rerun makes the same choices
whatever shard or worker the example lands in."""

import hashlib
import random


def _digest(seed: int, purpose: str, index: int) -> bytes:
    return hashlib.sha256(f"docs:{seed}:{purpose}:{index}".encode()).digest()


def stream(seed: int, purpose: str, index: int) -> random.Random:
    """An independent random stream for one purpose of one example."""
    return random.Random(int.from_bytes(_digest(seed, purpose, index)[:8], "big"))


def call_seed(seed: int, purpose: str, index: int) -> int:
    """The sampling seed of one LLM call (31 bits: every backend accepts it)."""
    return int.from_bytes(_digest(seed, purpose, index)[:4], "big") & 0x7FFFFFFF
