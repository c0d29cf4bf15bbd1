"""The quality filter flags each kind of bad render and passes a normal one."""

import io

import numpy as np
from PIL import Image, ImageDraw

from generators.docs.image_checks import check_image


def png(im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def chart(w: int = 640, h: int = 480) -> Image.Image:
    im = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(im)
    for i, v in enumerate([120, 260, 180, 320, 220]):
        d.rectangle([60 + i * 110, h - 40 - v, 140 + i * 110, h - 40], fill=(70, 110, 180))
    d.line([40, h - 40, w - 20, h - 40], fill="black", width=2)
    return im


def test_good_image_passes():
    assert check_image(png(chart())) == []


def test_undecodable():
    assert check_image(b"not a png")[0].startswith("undecodable")


def test_blank_and_near_uniform():
    assert "near-uniform" in check_image(png(Image.new("RGB", (500, 500), "white")))[0]
    im = Image.new("RGB", (500, 500), "white")
    ImageDraw.Draw(im).text((10, 10), "tiny", fill="black")
    assert any("near-uniform" in p for p in check_image(png(im)))


def test_transparent_blank_counts_as_blank():
    assert "near-uniform" in check_image(png(Image.new("RGBA", (300, 300), (0, 0, 0, 0))))[0]


def test_too_small():
    assert any("too small" in p for p in check_image(png(chart(100, 300))))


def test_extreme_aspect_ratio():
    assert any("aspect" in p for p in check_image(png(chart(3000, 400))))


def test_cut_off_content():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, size=(400, 400, 3), dtype=np.uint8)
    problems = check_image(png(Image.fromarray(noise)))
    assert any("cut off" in p for p in problems)
