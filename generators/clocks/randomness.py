"""Stable random streams: every random choice derives from (seed, purpose, index), never from hash()."""

import numpy as np

# Purposes get fixed integers so a stream never depends on Python's salted string hashing.
FACE_STREAM = 1
SAMPLE_STREAM = 2
TIME_STREAM = 3


def stream(seed: int, purpose: int, index: int) -> np.random.Generator:
    """An independent generator for one (seed, purpose, index) triple."""
    if seed < 0 or index < 0:
        raise ValueError(f"seed and index must be non-negative integers, got seed={seed} index={index}")
    return np.random.default_rng([int(seed), purpose, int(index)])


def pick(rng: np.random.Generator, options, weights=None):
    """One element of `options`, optionally weighted (weights need not sum to 1)."""
    if weights is None:
        return options[int(rng.integers(len(options)))]
    p = np.asarray(weights, dtype=float)
    return options[int(rng.choice(len(options), p=p / p.sum()))]


def chance(rng: np.random.Generator, probability: float) -> bool:
    return bool(rng.random() < probability)
