"""OCR with rapidocr's bundled PP-OCR models on text we render ourselves."""

import io

import pytest
from PIL import Image, ImageDraw, ImageFont

from inference.ocr import OCRConfig, OCREngine, OCRError, OCRLine, resolve_models, shared_engine
from inference.ocr.engine import join_lines, reading_order
from inference.ocr.models import EMBEDDED_DET, EMBEDDED_REC

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def render(lines: list[tuple[tuple[int, int], str]], size=(700, 260), font_size=36, fmt="PNG") -> bytes:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, font_size)
    for xy, text in lines:
        draw.text(xy, text, font=font, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def engine() -> OCREngine:
    return OCREngine(OCRConfig(threads=1))


def test_reads_rendered_text_in_reading_order(engine):
    # "Exit" is drawn on the first row, right of the first line: reading order puts it there, not last.
    data = render([((20, 140), "Coffee $3.50"), ((20, 30), "OPEN 24 HOURS"), ((420, 32), "Exit")], fmt="JPEG")
    result = engine.read(data)
    assert result.text == "OPEN 24 HOURS Exit\nCoffee $3.50"
    assert [line.text for line in result.lines] == ["OPEN 24 HOURS", "Exit", "Coffee $3.50"]
    assert all(0.5 <= line.score <= 1 for line in result.lines)
    (x0, y0), _, (x1, y1), _ = result.lines[0].box
    assert 10 <= x0 < x1 <= 340 and 20 <= y0 < y1 <= 80  # where we drew it
    assert (result.width, result.height) == (700, 260)
    assert result.model_id == f"{EMBEDDED_REC}+{EMBEDDED_DET}"


def test_large_images_are_scaled_and_boxes_map_back(engine):
    small = OCREngine(OCRConfig(threads=1, max_side=800))
    data = render([((100, 200), "WAREHOUSE 7")], size=(1600, 500), font_size=72)
    result = small.read(data)
    assert result.text == "WAREHOUSE 7"
    (x0, y0), _, (x1, _), _ = result.lines[0].box
    assert 80 <= x0 <= 110 and 180 <= y0 <= 215 and x1 > 500  # original pixels, not the scaled copy's


def test_blank_image_has_no_text(engine):
    result = engine.read(render([]))
    assert result.lines == [] and result.text == ""


@pytest.mark.parametrize("data", [b"", b"not an image at all", render([((5, 5), "x")])[:200]])
def test_unreadable_bytes_raise_ocr_error(engine, data):
    with pytest.raises(OCRError, match="cannot read the image"):
        engine.read(data)


def test_never_downloads(monkeypatch):
    from rapidocr.utils.download_file import DownloadFile

    def refuse(*args, **kwargs):
        raise AssertionError("rapidocr tried to download a model")

    monkeypatch.setattr(DownloadFile, "run", refuse)
    fresh = OCREngine(OCRConfig(threads=1, use_angle_classifier=True))
    assert fresh.read(render([((20, 30), "HELLO")])).text == "HELLO"


def test_shared_engine_is_one_per_config():
    assert shared_engine(OCRConfig(threads=1)) is shared_engine(OCRConfig(threads=1))
    assert shared_engine(OCRConfig(threads=1)) is not shared_engine(OCRConfig(threads=1, min_score=0.9))


def test_config_problems_are_reported():
    assert OCRConfig().validate() == []
    problems = OCRConfig(min_score=2, max_side=10, threads=-1).validate()
    assert len(problems) == 3
    with pytest.raises(ValueError, match="min score"):
        OCREngine(OCRConfig(min_score=-1))


def test_model_folders(tmp_path):
    embedded = resolve_models()
    assert embedded.det.endswith(EMBEDDED_DET) and embedded.rec.endswith(EMBEDDED_REC) and embedded.cls
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_models(str(tmp_path / "nowhere"))
    (tmp_path / "my_det.onnx").write_bytes(open(embedded.det, "rb").read())
    with pytest.raises(FileNotFoundError, match="no recognition model"):
        resolve_models(str(tmp_path))
    (tmp_path / "my_rec.onnx").write_bytes(open(embedded.rec, "rb").read())
    mine = resolve_models(str(tmp_path))  # the recogniser carries its character list: no keys file needed
    assert mine.det.endswith("my_det.onnx") and mine.rec.endswith("my_rec.onnx") and mine.cls is None


def line(text: str, x: float, y: float, w: float = 100, h: float = 30) -> OCRLine:
    return OCRLine(text, 0.9, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)))


def test_reading_order_groups_rows():
    lines = [line("c", 10, 100), line("b", 300, 12), line("a", 10, 10), line("d", 300, 95)]
    assert [item.text for item in reading_order(lines)] == ["a", "b", "c", "d"]
    assert join_lines(lines) == "a b\nc d"
    assert join_lines([]) == ""
