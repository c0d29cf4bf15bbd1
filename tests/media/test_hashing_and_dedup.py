"""Perceptual hashes survive re-encoding and resizing; duplicate rules are deterministic and order-free."""

import io
import random

import numpy as np
from PIL import Image

from media import first_duplicate_of, hamming, near_duplicate_bands, perceptual_hash, sha256_hex
from media.dedup import copy_rank


def photo_like(seed: int, size=(256, 192)) -> Image.Image:
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
    return Image.fromarray(coarse, "RGB").resize(size, Image.Resampling.BICUBIC)


def reencode(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


def test_sha256():
    assert sha256_hex(b"abc").startswith("ba7816bf")


def test_phash_is_stable_under_reencode_and_resize_and_differs_between_images():
    image = photo_like(1)
    phash = perceptual_hash(image)
    assert len(phash) == 16
    assert hamming(phash, perceptual_hash(reencode(image, 40))) <= 4
    assert hamming(phash, perceptual_hash(image.resize((128, 96)))) <= 4
    others = [hamming(phash, perceptual_hash(photo_like(seed))) for seed in range(2, 12)]
    assert min(others) > 10


def test_bands_put_every_near_pair_in_a_shared_group():
    rng = random.Random(0)
    for _ in range(200):
        distance = rng.randint(0, 6)
        value = rng.getrandbits(64)
        flipped = value
        for bit in rng.sample(range(64), distance):
            flipped ^= 1 << bit
        a, b = f"{value:016x}", f"{flipped:016x}"
        assert hamming(a, b) == distance
        assert set(near_duplicate_bands(a, 6)) & set(near_duplicate_bands(b, 6))
    assert len(near_duplicate_bands("0" * 16, 4)) == 5


def test_first_duplicate_of_keeps_the_best_copy_whatever_the_order():
    same = [(copy_rank(100, False, k), k, h) for k, h in (("c.jpg", "ffff000000000000"), ("a.jpg", "ffff000000000001"))]
    members = same + [(copy_rank(100, False, "b.jpg"), "b.jpg", "0000ffffffff0000")]
    for order in (members, members[::-1], members[1:] + members[:1]):
        assert first_duplicate_of(order, 4) == {"c.jpg": ("a.jpg", 1)}  # equal copies: the smallest key
    assert first_duplicate_of(members, 0) == {}
    big = (copy_rank(810 * 1080, False, "z/bus.jpg"), "z/bus.jpg", "ffff000000000000")
    gif = (copy_rank(405 * 540, True, "a/bus.gif"), "a/bus.gif", "ffff000000000000")
    still = (copy_rank(405 * 540, False, "b/bus.png"), "b/bus.png", "ffff000000000000")
    assert first_duplicate_of([gif, still, big], 0) == {"a/bus.gif": ("z/bus.jpg", 0), "b/bus.png": ("z/bus.jpg", 0)}
    assert first_duplicate_of([gif, still], 0) == {"a/bus.gif": ("b/bus.png", 0)}  # still beats animated
