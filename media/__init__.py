"""Images from the outside world: download, safe decoding and normalisation, hashing, duplicate rules.

Pure Python (no Beam): `pipelines/common/media_loader.py` and the subsets wrap these in Beam steps. Every failure is a
`MediaError` with a short reason (and details), so callers turn it into a dead letter rather than crash.
"""

from media.decode import DecodeConfig, DecodedImage, decode_image
from media.dedup import first_duplicate_of, hamming, near_duplicate_bands
from media.errors import MediaError
from media.fetch import FetchConfig, FetchResult, fetch_url
from media.hashing import perceptual_hash, sha256_hex

__all__ = [
    "DecodeConfig",
    "DecodedImage",
    "FetchConfig",
    "FetchResult",
    "MediaError",
    "decode_image",
    "fetch_url",
    "first_duplicate_of",
    "hamming",
    "near_duplicate_bands",
    "perceptual_hash",
    "sha256_hex",
]
