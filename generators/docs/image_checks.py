"""Quality checks for rendered document images: catch blank, tiny, oddly shaped, cut-off renders and text no
installed font can draw (empty boxes). Calibrated on tests/generators/docs/fixtures/images: correct renders of
every renderer in many styles (ggplot and dark themes, text-heavy documents, sparse charts, full-bleed posters)
must all pass, and each known-bad one must be caught.

- The page is the colour that dominates the image's outer border (not the most common colour overall: grey
  ggplot panels, bars or an area fill can outnumber the white margin). Without one (a full-bleed gradient
  poster) there is no page to compare with and the cut-off check does not apply.
- "Near-blank" is judged by how much content there is: pixels that differ from the page, and edges inside the
  picture (text and lines make many; a flat fill none). A one-page text document with wide margins is mostly
  page and still has thousands of edge pixels.
- "Cut off" is content running into an edge: the renderers all leave a margin, so text, rules or outlines that
  touch the outermost pixels were cut there; a header band, a panel or zebra rows that reach the edge are long
  runs of one flat colour and count as design."""

from __future__ import annotations

import functools
import html
import io
import re
import shutil
import subprocess
from bisect import bisect_right

import numpy as np
from PIL import Image

MIN_SIDE = 128
MAX_ASPECT = 8.0  # a left-to-right flowchart of 8 steps is 6:1 and reads fine; a 14:1 strip does not
MAX_PIXELS = 40_000_000
BORDER = 2  # pixels of the outer ring that decide the page colour
PAGE_SHARE = 0.6  # the page colour holds at least this share of the border ring
INK = 40  # a pixel is content when a channel differs from the page by more than this
EDGE_STEP = 40  # an edge pixel: luminance jumps by more than this to its right or lower neighbour
MIN_EDGE_FRACTION = 0.0004  # fewer edge pixels than this (0.04%) and there is nothing to read
MIN_CONTENT_FRACTION = 0.001  # and fewer content pixels than this (0.1%)
BAND_RUN = 12  # content along an edge is a design band when it runs at least this long ...
BAND_STD = 10.0  # ... in one flat colour (per-channel standard deviation at most this)
CUT_RUNS = 2  # an edge cuts content when at least this many other runs of content touch it
EDGE_NAMES = ("top", "bottom", "left", "right")


def _quantised(pixels: np.ndarray) -> np.ndarray:
    q = (pixels >> 3).astype(np.int32)
    return (q[..., 0] << 10) | (q[..., 1] << 5) | q[..., 2]


def page_colour(pixels: np.ndarray) -> np.ndarray | None:
    """The colour of the page, from the outer border ring; None when no colour dominates it (full bleed)."""
    b = BORDER
    ring = np.concatenate(
        [
            pixels[:b].reshape(-1, 3),
            pixels[-b:].reshape(-1, 3),
            pixels[:, :b].reshape(-1, 3),
            pixels[:, -b:].reshape(-1, 3),
        ]
    )
    keys = _quantised(ring)
    values, counts = np.unique(keys, return_counts=True)
    top = counts.argmax()
    if counts[top] < PAGE_SHARE * len(keys):
        return None
    return ring[keys == values[top]].mean(axis=0)


def edge_fraction(pixels: np.ndarray) -> float:
    """Share of pixels where the luminance jumps: text, lines and shape outlines; 0 for a flat fill."""
    lum = pixels.astype(np.int16) @ np.array([3, 6, 1], dtype=np.int16) // 10
    dx = np.abs(np.diff(lum, axis=1))[:-1, :] > EDGE_STEP
    dy = np.abs(np.diff(lum, axis=0))[:, :-1] > EDGE_STEP
    return float((dx | dy).mean())


def _line_runs(line: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True in a boolean line."""
    padded = np.concatenate([[False], line, [False]]).astype(np.int8)
    changes = np.flatnonzero(np.diff(padded))
    return list(zip(changes[::2].tolist(), changes[1::2].tolist(), strict=True))


def _cut_runs(ink: np.ndarray, colours: np.ndarray) -> int:
    """How many runs of content along one edge line are cut content rather than design: a band, a panel or a
    stripe that reaches the edge is long and one flat colour; cut text, rules and outlines are not."""
    cut = 0
    for start, end in _line_runs(ink):
        run = colours[start:end].astype(np.float32)
        band = end - start >= BAND_RUN and float(run.std(axis=0).max()) <= BAND_STD
        cut += not band
    return cut


def cut_edges(pixels: np.ndarray, page: np.ndarray) -> list[str]:
    """The edges that content runs into (see the module docstring)."""
    ink = np.abs(pixels.astype(np.int16) - page.astype(np.int16)).max(axis=-1) > INK
    lines = {
        "top": (ink[0], pixels[0]),
        "bottom": (ink[-1], pixels[-1]),
        "left": (ink[:, 0], pixels[:, 0]),
        "right": (ink[:, -1], pixels[:, -1]),
    }
    return [name for name in EDGE_NAMES if _cut_runs(*lines[name]) >= CUT_RUNS]


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
        problems.append(f"extreme aspect ratio: {w}x{h} (more than {MAX_ASPECT:g}:1)")
    # Composite transparency onto white, as a viewer would show it.
    flat = Image.new("RGB", rgb.size, "white")
    flat.paste(rgb, mask=rgb.getchannel("A"))
    pixels = np.asarray(flat)
    page = page_colour(pixels)
    edges = edge_fraction(pixels)
    if page is not None:
        content = float((np.abs(pixels.astype(np.int16) - page.astype(np.int16)).max(axis=-1) > INK).mean())
    else:
        content = 1.0
    if edges < MIN_EDGE_FRACTION or content < MIN_CONTENT_FRACTION:
        problems.append(f"near-blank: {content:.2%} of the image differs from the page, {edges:.3%} are edges")
        return problems
    if page is not None:
        cut = cut_edges(pixels, page)
        if cut:
            problems.append(f"content cut off at the {' and '.join(cut)} edge{'s' if len(cut) > 1 else ''}")
    return problems


# The text each renderer draws with: matplotlib uses its default font unless told otherwise (DejaVu Sans has
# no emoji); Chromium (HTML, Mermaid, plotly), Graphviz (pango) and vl-convert fall back over every installed
# font. LaTeX reports characters it cannot set as errors itself.
RENDERER_FONTS = {"matplotlib": "DejaVu Sans"}
NO_GLYPH_CHECK = {"latex"}


@functools.cache
def font_coverage(family: str = "") -> tuple[tuple[int, int], ...]:
    """Sorted, merged (first, last) code point ranges that installed fonts (of `family`, or all) can draw."""
    if shutil.which("fc-list") is None:
        return ()
    args = ["fc-list", "--format", "%{charset}\n"] + ([family] if family else [])
    out = subprocess.run(args, capture_output=True, text=True, timeout=60).stdout
    ranges = []
    for token in out.split():
        first, _, last = token.partition("-")
        try:
            ranges.append((int(first, 16), int(last or first, 16)))
        except ValueError:
            continue
    merged: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return tuple(merged)


def _covered(point: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    i = bisect_right(ranges, (point, 1 << 30)) - 1
    return i >= 0 and ranges[i][0] <= point <= ranges[i][1]


# Characters that draw nothing by design: joiners, variation selectors, skin-tone and tag modifiers.
INVISIBLE = re.compile("[\u200b-\u200f\u2060\ufe00-\ufe0f\U000e0000-\U000e007f\U0001f3fb-\U0001f3ff]")


def missing_glyphs(code: str, renderer: str) -> list[str]:
    """Characters in the code that the renderer's fonts cannot draw (they come out as empty boxes)."""
    if renderer in NO_GLYPH_CHECK:
        return []
    ranges = font_coverage(RENDERER_FONTS.get(renderer, ""))
    if not ranges:
        return []  # no fontconfig: nothing to check against
    if renderer in ("html", "mermaid"):
        code = html.unescape(code)  # &#xf095; is an icon-font glyph as much as the character itself
    seen = dict.fromkeys(ch for ch in code if ord(ch) > 0x7F and not ch.isspace() and not INVISIBLE.match(ch))
    return [ch for ch in seen if not _covered(ord(ch), ranges)]


def check_render(png: bytes, code: str = "", renderer: str = "") -> list[str]:
    """check_image, plus text the fonts cannot draw (the render would show empty boxes where it stands)."""
    problems = check_image(png)
    missing = missing_glyphs(code, renderer) if code else []
    if missing:
        shown = " ".join(f"{ch} (U+{ord(ch):04X})" for ch in missing[:5])
        problems.append(f"no installed font can draw {shown}: they render as empty boxes; leave them out")
    return problems
