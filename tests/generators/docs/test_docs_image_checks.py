"""The image checks on the calibrated fixture set (real renders of every renderer, fixtures/images; remade by
fixtures/make_image_fixtures.py): no correct render is rejected and every bad one is caught, for the reason it
is bad. Plus the edge cases drawn here."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from generators.docs.image_checks import check_image, check_render, missing_glyphs, page_colour

IMAGES = Path(__file__).parent / "fixtures" / "images"
SOURCES = json.loads((IMAGES / "sources.json").read_text())
GOOD = sorted(name for name in SOURCES if name.startswith("good/"))
BAD = sorted(name for name in SOURCES if name.startswith("bad/"))
# What each bad render must be caught for, by its name's first part.
BAD_REASON = {
    "blank": "near-blank",
    "one_colour": "near-blank",
    "clipped_legend": "cut off at the right edge",
    "clipped_title": "cut off at the top",
    "clipped_table": "cut off at the right edge",
    "strip_14to1": "extreme aspect ratio",
    "tofu_emoji": "no installed font can draw",
    "tofu_icons": "no installed font can draw",
    "tofu_kawi": "no installed font can draw",
}


def render_checked(name: str) -> list[str]:
    source = SOURCES[name]
    return check_render((IMAGES / name).read_bytes(), source["code"], source["renderer"])


def test_the_fixture_set_covers_every_renderer_and_every_kind_of_bad():
    assert {SOURCES[n]["renderer"] for n in GOOD} == {
        "matplotlib", "plotly", "vegalite", "latex", "html", "mermaid", "graphviz",
    }  # fmt: skip
    assert len(GOOD) >= 35
    assert {n.split("/")[1].split("-")[0] for n in BAD} == set(BAD_REASON)


@pytest.mark.parametrize("name", GOOD)
def test_no_correct_render_is_rejected(name):
    assert render_checked(name) == []


@pytest.mark.parametrize("name", BAD)
def test_every_bad_render_is_caught_for_its_reason(name):
    problems = render_checked(name)
    reason = BAD_REASON[name.split("/")[1].split("-")[0]]
    assert any(reason in p for p in problems), problems


@pytest.mark.parametrize(
    "name",
    [
        "good/matplotlib-bar_chart-cars.png",  # ggplot: the grey panel outnumbers the white margin
        "good/latex-math_worksheet-fractions.png",  # a text document: 95.5% one colour
        "good/vegalite-line_chart-rain.png",  # a sparse chart
        "good/html-newsletter-newsletter.png",  # a white sheet on a dark page
    ],
)
def test_renders_the_old_checks_rejected_pass(name):
    assert check_image((IMAGES / name).read_bytes()) == []


def test_the_page_is_found_from_the_border():
    im = Image.new("RGB", (400, 300), "white")
    ImageDraw.Draw(im).rectangle([20, 20, 380, 280], fill=(229, 229, 229))  # a ggplot panel: 86% of the pixels
    assert tuple(page_colour(np.asarray(im)).round()) == (255, 255, 255)


def png(im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def test_undecodable_tiny_and_transparent():
    assert check_image(b"not a png")[0].startswith("undecodable")
    assert any("too small" in p for p in check_image(png(Image.new("RGB", (100, 300), "white"))))
    assert "near-blank" in check_image(png(Image.new("RGBA", (300, 300), (0, 0, 0, 0))))[0]


def test_a_word_on_an_empty_page_is_near_blank():
    im = Image.new("RGB", (500, 500), "white")
    ImageDraw.Draw(im).text((10, 10), "tiny", fill="black")
    assert any("near-blank" in p for p in check_image(png(im)))


def test_glyph_coverage_follows_the_renderers_fonts():
    assert missing_glyphs("Caf\u00e9 \u2014 50\u00b0C", "matplotlib") == []
    assert missing_glyphs("Sale \U0001f389", "matplotlib") == ["\U0001f389"]  # DejaVu Sans has no emoji
    assert missing_glyphs("Sale \U0001f389", "html") == []  # Chromium falls back to the colour emoji font
    assert missing_glyphs("<i>&#xf095;</i>", "html") == ["\uf095"]  # an icon font that is not installed
    assert missing_glyphs("\U0001f389", "latex") == []  # pdflatex reports these as errors itself
