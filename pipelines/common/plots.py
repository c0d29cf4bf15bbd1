"""The stats/ plots of the dataset card, as small hand-written SVG charts.

Why SVG and not matplotlib: the charts are simple (bars, histograms, one heatmap), and matplotlib cost about a
second to import and 0.4-1.2 s per chart (text layout, tight_layout), a fifth of a short run. Writing the SVG by
hand takes 1-5 ms per chart, adds no dependency, and gives vector files of 2-50 kB that GitHub and the
Hugging Face Hub show in a README (`![..](stats/x.svg)`). Every bar and cell has a `<title>` (a hover tooltip) with
its exact label and value.

Layout is estimated, not measured: a character is taken as 0.6 x the font size wide, and the margins are sized from
the longest label. The bytes depend only on the input (coordinates with one decimal, no dates;
the one id, a heatmap's colour gradient, comes from its title).
"""

import hashlib
import math
from collections.abc import Iterable, Sequence

import numpy as np

BAR_COLOUR = "#4c72b0"
GRID_COLOUR = "#e3e3e3"
AXIS_COLOUR = "#555555"
TEXT_COLOUR = "#222222"
FONT_FAMILY = "DejaVu Sans, Helvetica, Arial, sans-serif"
TITLE_SIZE, LABEL_SIZE, TICK_SIZE, SMALL_SIZE = 14, 12, 11, 10
CHAR_WIDTH = 0.6  # the estimated width of a character, as a fraction of the font size
MAX_LABEL_CHARS = 48  # longer category labels are cut on the axis; the tooltip keeps them whole
PAD = 12  # the space around the chart
TICK_GAP = 6  # between an axis and its tick labels
ROTATE_ABOVE = 12  # vertical bar charts with more labels write them rotated by 90 degrees
PLOT_WIDTH, PLOT_HEIGHT = 520.0, 260.0  # the smallest plot area (bar and histogram charts)
MAX_BAR = 60.0  # the widest bar of a vertical bar chart with few labels
XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})
# matplotlib's viridis at 0, 1/8, ..., 1; colours in between are interpolated linearly.
VIRIDIS = ("#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725")


def bar_svg(
    labels: Sequence[str],
    counts: Sequence[float],
    title: str,
    xlabel: str,
    horizontal: bool = False,
    value_label: str = "examples",
) -> bytes:
    """One bar per label, in the given order (left to right, or top to bottom when horizontal)."""
    labels = [str(label) for label in labels]
    values = [float(count) for count in counts]
    if len(labels) != len(values):
        raise ValueError(f"{len(labels)} labels but {len(values)} counts")
    ticks = _value_ticks(values)
    if horizontal:
        return _horizontal_bars(labels, values, ticks, title, xlabel, value_label)
    return _vertical_bars(labels, values, ticks, title, xlabel, value_label)


def histogram_svg(values: Iterable[float], bins: int | Sequence[float], title: str, xlabel: str) -> bytes:
    """`numpy.histogram` of the finite values as touching bars, the bin edges labelled on the x axis."""
    data = np.asarray([float(v) for v in values], dtype=float)
    data = data[np.isfinite(data)]
    if data.size:
        counts, edges = np.histogram(data, bins=bins if isinstance(bins, int) else np.asarray(bins, dtype=float))
        counts, edges = counts.tolist(), edges.tolist()
    else:
        counts, edges = [], []
    ticks = _value_ticks(counts)
    tick_width = max(_width(_tick_text(t, ticks), TICK_SIZE) for t in ticks)
    decimals = _edge_decimals(edges)
    edge_texts = [f"{e:.{decimals}f}" for e in edges]
    left = PAD + LABEL_SIZE + 8 + tick_width + TICK_GAP
    top = PAD + TITLE_SIZE + 14
    right = PAD + max((_width(edge_texts[-1], TICK_SIZE) / 2 if edge_texts else 0), 4)
    width = max(left + PLOT_WIDTH + right, _width(title, TITLE_SIZE) + 2 * PAD)
    plot_w, plot_h = width - left - right, PLOT_HEIGHT
    base = top + plot_h
    height = base + TICK_GAP + TICK_SIZE + 10 + LABEL_SIZE + PAD
    body = _title(width, title) + _value_grid(ticks, left, top, plot_w, plot_h, horizontal=False)
    if counts:
        low, span = edges[0], (edges[-1] - edges[0]) or 1.0

        def x_of(edge: float) -> float:
            return left + (edge - low) / span * plot_w

        for i, count in enumerate(counts):
            closing = "]" if i == len(counts) - 1 else ")"
            tip = f"[{edge_texts[i]}, {edge_texts[i + 1]}{closing}: {count}"
            h = count / ticks[-1] * plot_h
            x0, x1 = x_of(edges[i]), x_of(edges[i + 1])
            body.append(_bar(x0, base - h, x1 - x0, h, tip, stroke=True))
        # Every edge gets a tick mark; every stride-th a label, few enough that the widest labels do not touch.
        narrowest = min(x_of(b) - x_of(a) for a, b in zip(edges, edges[1:], strict=False)) or 1.0
        stride = max(1, math.ceil((max(_width(t, TICK_SIZE) for t in edge_texts) + 6) / narrowest))
        for i, (edge, text) in enumerate(zip(edges, edge_texts, strict=True)):
            body.append(_line(x_of(edge), base, x_of(edge), base + 4, AXIS_COLOUR))
            if i % stride == 0:
                body.append(_text(x_of(edge), base + TICK_GAP + TICK_SIZE, text, TICK_SIZE))
    else:
        body.append(_no_data(left + plot_w / 2, top + plot_h / 2))
    body += _axes(left, top, plot_w, plot_h)
    return _labelled_document(width, height, body, left, top, plot_w, plot_h, xlabel, "examples")


def heatmap_svg(matrix: Sequence[Sequence[float]], title: str, xlabel: str, ylabel: str) -> bytes:
    """Row 0 at the top, one cell per value on a viridis scale, and a colour bar from the minimum to the maximum."""
    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2 or m.size == 0:
        m = np.zeros((0, 0))
    rows, cols = m.shape
    finite = m[np.isfinite(m)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    span = (high - low) or 1.0
    cell_w = min(48.0, max(12.0, 560.0 / max(cols, 1)))
    cell_h = min(28.0, max(12.0, 300.0 / max(rows, 1)))
    plot_w, plot_h = max(cols, 1) * cell_w, max(rows, 1) * cell_h
    row_texts, col_texts = [str(r) for r in range(rows)], [str(c) for c in range(cols)]
    row_label_w = max((_width(t, SMALL_SIZE) for t in row_texts), default=0.0)
    col_label_w = max((_width(t, SMALL_SIZE) for t in col_texts), default=0.0)
    row_step = math.ceil((SMALL_SIZE + 2) / cell_h)
    col_step = math.ceil((col_label_w + 6) / cell_w)
    left = PAD + LABEL_SIZE + 8 + row_label_w + TICK_GAP
    top = PAD + TITLE_SIZE + 14
    base = top + plot_h
    # The colour bar: minimum at the bottom, maximum at the top, nice ticks in between.
    bar_x, bar_w = left + plot_w + 16, 14.0
    bar_labels = [(low, _value(low)), (high, _value(high))] if high > low else [(low, _value(low))]
    if high > low:
        step = _nice_step(span / 4)
        decimals = _decimals(step)
        for k in range(math.ceil(low / step), math.floor(high / step) + 1):
            tick = k * step
            if min(tick - low, high - tick) / span * plot_h >= SMALL_SIZE + 4:  # clear of the min and max labels
                bar_labels.append((tick, f"{tick:.{decimals}f}"))
    bar_label_w = max(_width(text, SMALL_SIZE) for _, text in bar_labels)
    width = max(bar_x + bar_w + TICK_GAP + bar_label_w + 8 + LABEL_SIZE + PAD, _width(title, TITLE_SIZE) + 2 * PAD)
    height = base + TICK_GAP + SMALL_SIZE + 10 + LABEL_SIZE + PAD
    body = _title(width, title)
    body.append('<g class="cells" shape-rendering="crispEdges">')
    for r in range(rows):
        for c in range(cols):
            value = m[r, c]
            colour = _viridis((value - low) / span) if math.isfinite(value) else "#cccccc"
            tip = f"{ylabel or 'row'} {r}, {xlabel or 'column'} {c}: {_value(value)}"
            x, y = left + c * cell_w, top + r * cell_h
            body.append(
                f'<rect class="cell" x="{_f(x)}" y="{_f(y)}" width="{_f(cell_w)}" height="{_f(cell_h)}" '
                f'fill="{colour}"><title>{_escape(tip)}</title></rect>'
            )
    body.append("</g>")
    if not m.size:
        body.append(_no_data(left + plot_w / 2, top + plot_h / 2))
    for r in range(0, rows, row_step):
        body.append(
            _text(left - TICK_GAP, top + (r + 0.5) * cell_h + 0.35 * SMALL_SIZE, row_texts[r], SMALL_SIZE, "end")
        )
    for c in range(0, cols, col_step):
        body.append(_text(left + (c + 0.5) * cell_w, base + TICK_GAP + SMALL_SIZE, col_texts[c], SMALL_SIZE))
    body += _axes(left, top, plot_w, plot_h)
    stops = "".join(f'<stop offset="{i / (len(VIRIDIS) - 1):.3f}" stop-color="{c}"/>' for i, c in enumerate(VIRIDIS))
    # An id of this chart's own: charts inlined into one HTML page share one id space.
    gradient = "viridis-" + hashlib.sha256(title.encode()).hexdigest()[:10]
    body.append(f'<defs><linearGradient id="{gradient}" x1="0" y1="1" x2="0" y2="0">{stops}</linearGradient></defs>')
    body.append(
        f'<rect class="colour-bar" x="{_f(bar_x)}" y="{_f(top)}" width="{_f(bar_w)}" height="{_f(plot_h)}" '
        f'fill="url(#{gradient})" stroke="{AXIS_COLOUR}" stroke-width="0.5"/>'
    )
    for value, text in bar_labels:
        y = base - (value - low) / span * plot_h
        body.append(_line(bar_x + bar_w, y, bar_x + bar_w + 3, y, AXIS_COLOUR))
        body.append(_text(bar_x + bar_w + TICK_GAP, y + 0.35 * SMALL_SIZE, text, SMALL_SIZE, "start"))
    label_x = bar_x + bar_w + TICK_GAP + bar_label_w + 8 + LABEL_SIZE
    body.append(_text(label_x, top + plot_h / 2, "examples", LABEL_SIZE, rotate=True))
    return _labelled_document(width, height, body, left, top, plot_w, plot_h, xlabel, ylabel)


def _vertical_bars(
    labels: list[str], values: list[float], ticks: list[float], title: str, xlabel: str, value_label: str
) -> bytes:
    n = len(labels)
    shown = [_clip(label) for label in labels]
    label_w = max((_width(s, TICK_SIZE) for s in shown), default=0.0)
    rotate = n > ROTATE_ABOVE or n * (label_w + 8) > 720
    label_size = SMALL_SIZE if rotate else TICK_SIZE
    label_h = max((_width(s, SMALL_SIZE) for s in shown), default=0.0) if rotate else TICK_SIZE
    pitch = 14.0 if rotate else max(36.0, label_w + 8)
    tick_width = max(_width(_tick_text(t, ticks), TICK_SIZE) for t in ticks)
    left = PAD + LABEL_SIZE + 8 + tick_width + TICK_GAP
    top = PAD + TITLE_SIZE + 14
    width = max(left + max(PLOT_WIDTH, n * pitch) + PAD, _width(title, TITLE_SIZE) + 2 * PAD)
    plot_w, plot_h = width - left - PAD, PLOT_HEIGHT
    pitch = plot_w / max(n, 1)
    base = top + plot_h
    height = base + TICK_GAP + label_h + 10 + LABEL_SIZE + PAD
    body = _title(width, title) + _value_grid(ticks, left, top, plot_w, plot_h, horizontal=False)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h, w = _positive(value) / ticks[-1] * plot_h, min(0.8 * pitch, MAX_BAR)
        body.append(_bar(left + (i + 0.5) * pitch - w / 2, base - h, w, h, f"{label}: {_value(value)}"))
    for i, text in enumerate(shown):
        x = left + (i + 0.5) * pitch
        if rotate:  # reads bottom to top, ending just below the axis
            body.append(_text(x + 0.35 * label_size, base + TICK_GAP, text, label_size, "end", rotate=True))
        else:
            body.append(_text(x, base + TICK_GAP + TICK_SIZE, text, TICK_SIZE))
    if not n:
        body.append(_no_data(left + plot_w / 2, top + plot_h / 2))
    body += _axes(left, top, plot_w, plot_h)
    return _labelled_document(width, height, body, left, top, plot_w, plot_h, xlabel, value_label)


def _horizontal_bars(
    labels: list[str], values: list[float], ticks: list[float], title: str, xlabel: str, value_label: str
) -> bytes:
    n = len(labels)
    shown = [_clip(label) for label in labels]
    label_w = max((_width(s, TICK_SIZE) for s in shown), default=0.0)
    pitch = min(36.0, max(18.0, 180.0 / max(n, 1)))  # the chart grows by 18 px a label
    left = PAD + LABEL_SIZE + 8 + label_w + TICK_GAP
    right = PAD + _width(_tick_text(ticks[-1], ticks), TICK_SIZE) / 2
    top = PAD + TITLE_SIZE + 14
    width = max(left + PLOT_WIDTH + right, _width(title, TITLE_SIZE) + 2 * PAD)
    plot_w, plot_h = width - left - right, max(n, 1) * pitch
    base = top + plot_h
    height = base + TICK_GAP + TICK_SIZE + 10 + LABEL_SIZE + PAD
    body = _title(width, title) + _value_grid(ticks, left, top, plot_w, plot_h, horizontal=True)
    for i, (label, value, text) in enumerate(zip(labels, values, shown, strict=True)):
        y = top + i * pitch
        w, h = _positive(value) / ticks[-1] * plot_w, 0.7 * pitch
        body.append(_bar(left, y + (pitch - h) / 2, w, h, f"{label}: {_value(value)}"))
        body.append(_text(left - TICK_GAP, y + pitch / 2 + 0.35 * TICK_SIZE, text, TICK_SIZE, "end"))
    if not n:
        body.append(_no_data(left + plot_w / 2, top + plot_h / 2))
    body += _axes(left, top, plot_w, plot_h)
    return _labelled_document(width, height, body, left, top, plot_w, plot_h, value_label, xlabel)


def _labelled_document(
    width: float,
    height: float,
    body: list[str],
    left: float,
    top: float,
    plot_w: float,
    plot_h: float,
    bottom_label: str,
    side_label: str,
) -> bytes:
    """The chart with its axis labels: one under the plot, one up its left side."""
    body.append(_text(left + plot_w / 2, height - PAD, bottom_label, LABEL_SIZE))
    body.append(_text(PAD + LABEL_SIZE, top + plot_h / 2, side_label, LABEL_SIZE, rotate=True))
    return _document(width, height, body)


def _value_grid(
    ticks: list[float], left: float, top: float, plot_w: float, plot_h: float, horizontal: bool
) -> list[str]:
    """Light grid lines and tick labels of the value axis (left, or at the bottom when horizontal)."""
    parts = []
    for tick in ticks:
        text = _tick_text(tick, ticks)
        if horizontal:
            x = left + tick / ticks[-1] * plot_w
            parts.append(_line(x, top, x, top + plot_h, GRID_COLOUR))
            parts.append(_text(x, top + plot_h + TICK_GAP + TICK_SIZE, text, TICK_SIZE))
        else:
            y = top + plot_h - tick / ticks[-1] * plot_h
            parts.append(_line(left, y, left + plot_w, y, GRID_COLOUR))
            parts.append(_text(left - TICK_GAP, y + 0.35 * TICK_SIZE, text, TICK_SIZE, "end"))
    return parts


def _axes(left: float, top: float, plot_w: float, plot_h: float) -> list[str]:
    base = top + plot_h
    return [_line(left, top, left, base, AXIS_COLOUR), _line(left, base, left + plot_w, base, AXIS_COLOUR)]


def _value_ticks(values: Sequence[float]) -> list[float]:
    """Ticks from 0 to the first nice value (1, 2 or 5 x 10^k steps) at or above the largest value."""
    top = max((_positive(v) for v in values), default=0.0) or 1.0
    step = _nice_step(top / 5)
    if all(float(v).is_integer() for v in values):
        step = max(step, 1.0)  # no fractional ticks for counts
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _nice_step(rough: float) -> float:
    magnitude = 10.0 ** math.floor(math.log10(rough))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough * (1 - 1e-9))


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step) + 1e-9))


def _tick_text(tick: float, ticks: list[float]) -> str:
    return f"{tick:.{_decimals(ticks[1] - ticks[0])}f}"


def _edge_decimals(edges: Sequence[float]) -> int:
    """The fewest decimals that write every bin edge exactly, at most one more than the bin width needs."""
    steps = [b - a for a, b in zip(edges, edges[1:], strict=False) if b > a]
    if not steps:
        return 0
    most = max(0, math.ceil(-math.log10(min(steps)))) + 1
    scale = max(abs(e) for e in edges) or 1.0
    for decimals in range(most):
        if all(abs(round(e, decimals) - e) <= 1e-9 * scale for e in edges):
            return decimals
    return most


def _viridis(t: float) -> str:
    position = min(max(t, 0.0), 1.0) * (len(VIRIDIS) - 1)
    i = min(int(position), len(VIRIDIS) - 2)
    frac = position - i
    a, b = VIRIDIS[i], VIRIDIS[i + 1]
    channels = (round(int(a[k : k + 2], 16) * (1 - frac) + int(b[k : k + 2], 16) * frac) for k in (1, 3, 5))
    return "#" + "".join(f"{c:02x}" for c in channels)


def _positive(value: float) -> float:
    return value if math.isfinite(value) and value > 0 else 0.0


def _value(value: float) -> str:
    """A count exactly (42), other numbers with 6 significant digits."""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}"


def _clip(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "\u2026"


def _width(text: str, size: float) -> float:
    return len(text) * CHAR_WIDTH * size


def _f(number: float) -> str:
    text = f"{number:.1f}"
    return "0.0" if text == "-0.0" else text


def _escape(text: str) -> str:
    return text.translate(XML_ESCAPES)


def _text(x: float, y: float, text: str, size: float, anchor: str = "middle", rotate: bool = False) -> str:
    turn = f' transform="rotate(-90 {_f(x)} {_f(y)})"' if rotate else ""
    return f'<text x="{_f(x)}" y="{_f(y)}" font-size="{size}" text-anchor="{anchor}"{turn}>{_escape(text)}</text>'


def _line(x1: float, y1: float, x2: float, y2: float, colour: str) -> str:
    return f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" stroke="{colour}" stroke-width="1"/>'


def _bar(x: float, y: float, w: float, h: float, tip: str, stroke: bool = False) -> str:
    edge = ' stroke="#ffffff" stroke-width="1"' if stroke else ""
    return (
        f'<rect class="bar" x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" fill="{BAR_COLOUR}"{edge}>'
        f"<title>{_escape(tip)}</title></rect>"
    )


def _title(width: float, title: str) -> list[str]:
    return [
        f'<text x="{_f(width / 2)}" y="{PAD + TITLE_SIZE}" font-size="{TITLE_SIZE}" font-weight="bold" '
        f'text-anchor="middle">{_escape(title)}</text>'
    ]


def _no_data(x: float, y: float) -> str:
    return f'<text x="{_f(x)}" y="{_f(y)}" font-size="{LABEL_SIZE}" text-anchor="middle" fill="#888888">no data</text>'


def _document(width: float, height: float, body: list[str]) -> bytes:
    w, h = math.ceil(width), math.ceil(height)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        f'font-family="{FONT_FAMILY}" fill="{TEXT_COLOUR}">'
    )
    return "\n".join([head, f'<rect width="{w}" height="{h}" fill="#ffffff"/>', *body, "</svg>", ""]).encode()
