"""Image fingerprints: sha256 of the bytes (exact duplicates) and a 64-bit perceptual hash (near duplicates).

The perceptual hash is the classic DCT pHash: greyscale, 32x32, 2-D DCT, the 8x8 lowest frequencies
(without the DC term's influence on the threshold) compared with their median. Re-encodes, resizes and mild
colour changes keep most bits; different pictures differ in about half of them.
"""

import hashlib
from functools import lru_cache

import numpy as np
from PIL import Image

HASH_SIZE = 8
SAMPLE = 32


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=1)
def _dct_matrix(n: int = SAMPLE) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    matrix = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    matrix[0] /= np.sqrt(2.0)
    return matrix


def perceptual_hash(image: Image.Image) -> str:
    """64-bit pHash of `image` as 16 hex digits."""
    grey = image.convert("L").resize((SAMPLE, SAMPLE), Image.Resampling.LANCZOS)
    pixels = np.asarray(grey, dtype=np.float64)
    dct = _dct_matrix() @ pixels @ _dct_matrix().T
    low = dct[:HASH_SIZE, :HASH_SIZE].flatten()
    median = np.median(low[1:])  # the DC term is the mean brightness: leave it out of the threshold
    bits = low > median
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return f"{value:016x}"
