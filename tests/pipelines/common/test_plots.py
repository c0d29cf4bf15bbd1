import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from pipelines.common import plots

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: bytes) -> ET.Element:
    assert svg.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"')
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    width, height = float(root.get("width")), float(root.get("height"))
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}" and width > 0 and height > 0
    assert "sans-serif" in root.get("font-family")
    background = root.find(f"{NS}rect")
    assert background.get("fill") == "#ffffff" and float(background.get("width")) == width
    return root


def rects(root: ET.Element, kind: str) -> list[ET.Element]:
    return [r for r in root.iter(f"{NS}rect") if r.get("class") == kind]


def tooltips(root: ET.Element, kind: str) -> list[str]:
    return [r.find(f"{NS}title").text for r in rects(root, kind)]


def texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{NS}text")]


def test_bar_chart_has_one_bar_and_tooltip_per_label():
    labels, counts = ["a", "bb", "ccc"], [3, 0, 17]
    root = parse(plots.bar_svg(labels, counts, "Title", "letters"))
    assert tooltips(root, "bar") == ["a: 3", "bb: 0", "ccc: 17"]
    heights = [float(r.get("height")) for r in rects(root, "bar")]
    assert heights[1] == 0 and heights[2] > heights[0] > 0
    assert {"Title", "letters", "examples", "a", "bb", "ccc"} <= set(texts(root))


def test_value_axis_has_nice_ticks_and_grid_lines():
    root = parse(plots.bar_svg(["a", "b"], [0, 87], "t", "x"))
    assert ["0", "20", "40", "60", "80", "100"] == [t for t in texts(root) if t.isdigit()]
    assert sum(line.get("stroke") == plots.GRID_COLOUR for line in root.iter(f"{NS}line")) == 6
    ones = parse(plots.bar_svg(["a", "b"], [1, 1], "t", "x"))
    assert [t for t in texts(ones) if t[0].isdigit()] == ["0", "1"]  # counts never get fractional ticks
    fractions = parse(plots.bar_svg(["a", "b"], [0.25, 0.9], "t", "x", value_label="rate"))
    assert {"0.0", "0.2", "1.0", "rate"} <= set(texts(fractions)) and "examples" not in texts(fractions)


@pytest.mark.parametrize("horizontal", [False, True])
def test_escaped_labels_round_trip(horizontal):
    label = "a <b> & \"c\" 'd'"
    svg = plots.bar_svg([label, "plain"], [5, 1], 'Title <&> "q"', "x & y", horizontal=horizontal)
    root = parse(svg)
    assert tooltips(root, "bar")[0] == f"{label}: 5"
    assert label in texts(root) and 'Title <&> "q"' in texts(root) and "x & y" in texts(root)


def test_same_input_same_bytes():
    args = (["x", "y"], [1, 2], "t", "x")
    assert plots.bar_svg(*args) == plots.bar_svg(*args)
    assert plots.bar_svg(*args, horizontal=True) == plots.bar_svg(*args, horizontal=True)
    assert plots.histogram_svg([0.5, 1.5, 2.25], 4, "t", "x") == plots.histogram_svg([0.5, 1.5, 2.25], 4, "t", "x")
    assert plots.heatmap_svg([[0, 1], [2, 3]], "t", "x", "y") == plots.heatmap_svg([[0, 1], [2, 3]], "t", "x", "y")


def test_many_vertical_labels_are_rotated_and_widen_the_chart():
    few = parse(plots.bar_svg([str(i) for i in range(12)], [1] * 12, "t", "x"))
    many = parse(plots.bar_svg([f"minute {i}" for i in range(60)], list(range(60)), "t", "x"))
    assert not any("rotate" in t.get("transform", "") and t.text.isdigit() for t in few.iter(f"{NS}text"))
    rotated = [t for t in many.iter(f"{NS}text") if t.text.startswith("minute ")]
    assert len(rotated) == 60 and all(t.get("transform", "").startswith("rotate(-90") for t in rotated)
    assert len(rects(many, "bar")) == 60 and float(many.get("width")) >= 60 * 14


def test_horizontal_bars_keep_order_and_grow_with_labels():
    labels = [f"feature {i}: a rather long value name {i}" for i in range(70)]
    root = parse(plots.bar_svg(labels, list(range(70, 0, -1)), "t", "feature", horizontal=True))
    bars = rects(root, "bar")
    assert [float(b.get("y")) for b in bars] == sorted(float(b.get("y")) for b in bars)
    assert tooltips(root, "bar")[0] == f"{labels[0]}: 70"
    assert float(root.get("height")) >= 70 * 18
    # The left margin holds the longest label (0.6 x font size per character).
    assert float(bars[0].get("x")) >= len(labels[0]) * 0.6 * plots.TICK_SIZE
    small = parse(plots.bar_svg(["a", "b"], [1, 2], "t", "x", horizontal=True))
    assert float(small.get("height")) < float(root.get("height"))


def test_histogram_counts_sum_to_the_values():
    values = [1, 2, 2, 3, 3, 3, 10, 11.5]
    root = parse(plots.histogram_svg(values, 5, "Lengths", "words"))
    tips = tooltips(root, "bar")
    assert len(tips) == 5 and sum(int(t.rsplit(": ", 1)[1]) for t in tips) == len(values)
    counts, edges = np.histogram(values, bins=5)
    assert tips[0] == f"[{edges[0]:.1f}, {edges[1]:.1f}): {counts[0]}" and tips[-1].startswith(f"[{edges[-2]:.1f}, ")
    assert tips[-1].split(": ")[0].endswith("]")
    assert f"{edges[-1]:.1f}" in texts(root)  # bins labelled by their edges
    explicit = parse(plots.histogram_svg([0.05, 0.5, 0.95], [i / 20 for i in range(21)], "t", "score"))
    assert len(rects(explicit, "bar")) == 20 and "0.50" in texts(explicit)


@pytest.mark.parametrize("values", [[], [float("nan")]])
def test_histogram_without_data_says_so(values):
    root = parse(plots.histogram_svg(values, 20, "Empty", "words"))
    assert rects(root, "bar") == [] and "no data" in texts(root)


def test_heatmap_cells_and_colour_scale():
    matrix = np.arange(24 * 12, dtype=float).reshape(24, 12)
    root = parse(plots.heatmap_svg(matrix, "Time of day", "minute bucket", "hour"))
    cells = rects(root, "cell")
    assert len(cells) == 24 * 12
    assert cells[0].get("fill") != cells[-1].get("fill")
    assert cells[0].get("fill") == plots.VIRIDIS[0] and cells[-1].get("fill") == plots.VIRIDIS[-1]
    assert tooltips(root, "cell")[13] == "hour 1, minute bucket 1: 13"
    words = texts(root)
    assert {"0", "287", "23", "11", "examples", "Time of day", "minute bucket", "hour"} <= set(words)  # min and max
    assert len(rects(root, "colour-bar")) == 1


def test_each_heatmap_has_its_own_gradient_id():
    # Charts inlined into one HTML page share one id space: a colour bar must point at its own gradient.
    ids = []
    for title in ("Time of day", "Hands"):
        svg = plots.heatmap_svg([[0.0, 1.0]], title, "x", "y").decode()
        gradient = ET.fromstring(svg).find(".//{http://www.w3.org/2000/svg}linearGradient").get("id")
        assert f'fill="url(#{gradient})"' in svg
        ids.append(gradient)
    assert ids[0] != ids[1]
    assert plots.heatmap_svg([[0.0]], "Hands", "x", "y") == plots.heatmap_svg([[0.0]], "Hands", "x", "y")


def test_viridis_interpolates_between_stops():
    assert plots._viridis(0.0) == "#440154" and plots._viridis(1.0) == "#fde725"
    assert plots._viridis(0.0625) not in plots.VIRIDIS  # between the first two stops


@pytest.mark.parametrize(
    "svg",
    [
        lambda: plots.bar_svg(["a", "b"], [0, 0], "zeros", "x"),
        lambda: plots.bar_svg(["a", "b"], [0, 0], "zeros", "x", horizontal=True),
        lambda: plots.bar_svg([], [], "nothing", "x"),
        lambda: plots.bar_svg([], [], "nothing", "x", horizontal=True),
        lambda: plots.histogram_svg([0, 0, 0], 3, "one value", "x"),
        lambda: plots.heatmap_svg([[0, 0], [0, 0]], "zeros", "x", "y"),
        lambda: plots.heatmap_svg([], "nothing", "x", "y"),
    ],
)
def test_zero_and_empty_data_do_not_raise(svg):
    root = parse(svg())
    for rect in root.iter(f"{NS}rect"):
        assert all(math.isfinite(float(rect.get(k))) for k in ("x", "y", "width", "height") if rect.get(k))


def test_long_title_widens_the_chart():
    title = "A title that is much longer than the plot area would be on its own, " * 2
    root = parse(plots.bar_svg(["a"], [1], title, "x"))
    assert float(root.get("width")) >= len(title) * 0.6 * plots.TITLE_SIZE
