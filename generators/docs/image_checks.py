"""Quality filter for rendered document images: catch blank, tiny, oddly shaped or cut-off renders."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

MIN_SIDE = 128
MAX_ASPECT = 5.0
MAX_PIXELS = 40_000_000
UNIFORM_FRACTION = 0.95  # CoSyn drops images where one colour covers more than 95%
EDGE_BAND = 0.02  # outer 2% of each side
EDGE_INK_FRACTION = 0.5  # "content touches the edge" when this much of an edge band is ink
CUT_EDGES = 3  # cut off when this many of the four sides are heavily inked


def _colour_counts(pixels: np.ndarray) -> np.ndarray:
    """Pixel counts per colour, quantised to 5 bits a channel (so JPEG-ish noise still counts as one)."""
    q = (pixels >> 3).reshape(-1, pixels.shape[-1]).astype(np.int64)
    keys = (q[:, 0] << 10) | (q[:, 1] << 5) | q[:, 2]
    return np.bincount(keys, minlength=1 << 15)


def check_image(png: bytes) -> list[str]:
    """Problems that make a render unusable; an empty list means it looks fine."""
    try:
        with Image.open(io.BytesIO(png)) as im:
            w, h = im.size
            if w * h > MAX_PIXELS:
                return [f"too large: {w}x{h}"]
            im.load()
            rgb = im.convert("RGBA")
    except Exception as e:  # any decoder failure means the bytes are not an image we can use
        return [f"undecodable: {type(e).__name__}"]
    problems = []
    if min(w, h) < MIN_SIDE:
        problems.append(f"too small: {w}x{h} (min side {MIN_SIDE})")
    if max(w, h) / max(1, min(w, h)) > MAX_ASPECT:
        problems.append(f"extreme aspect ratio: {w}x{h}")
    # Composite transparency onto white, as a viewer would show it.
    flat = Image.new("RGB", rgb.size, "white")
    flat.paste(rgb, mask=rgb.getchannel("A"))
    pixels = np.asarray(flat)
    counts = _colour_counts(pixels)
    top = int(counts.argmax())
    share = counts[top] / counts.sum()
    if share > UNIFORM_FRACTION:
        problems.append(f"near-uniform: {share:.1%} of pixels are one colour")
        return problems
    bg = np.array([(top >> 10) & 31, (top >> 5) & 31, top & 31]) * 8 + 4
    ink = np.abs(pixels.astype(np.int16) - bg).max(axis=-1) > 24
    bw, bh = max(1, int(w * EDGE_BAND)), max(1, int(h * EDGE_BAND))
    bands = [ink[:bh, :], ink[-bh:, :], ink[:, :bw], ink[:, -bw:]]
    heavy = sum(band.mean() > EDGE_INK_FRACTION for band in bands)
    if heavy >= CUT_EDGES:
        problems.append(f"content cut off: ink covers {heavy} of 4 image edges")
    return problems
