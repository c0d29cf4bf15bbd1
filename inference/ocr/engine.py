"""OCREngine: image bytes -> text lines (text, score, box) in reading order, with rapidocr's PP-OCR models.

The models load on the first read (about a second), so build engines freely; `shared_engine` keeps one per
config per process, which is what servers and Beam workers want.
"""

import logging
import threading
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from inference.ocr.config import OCRConfig
from inference.ocr.models import OCRModels, resolve_models
from media import DecodeConfig, MediaError, decode_image

# OCR reads small crops too (a sign, a label): accept images down to 8 px a side.
DECODE = DecodeConfig(min_side=8)

Box = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]


class OCRError(Exception):
    """The image could not be read (not an image, corrupt, too large...); `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class OCRLine:
    text: str
    score: float
    box: Box  # four (x, y) corners in pixels of the original image, clockwise from top-left


@dataclass(frozen=True)
class OCRResult:
    lines: list[OCRLine]  # in reading order
    width: int
    height: int
    model_id: str
    text: str = field(init=False)  # lines of one row joined by spaces, rows by newlines

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", join_lines(self.lines))


def _rows(lines: list[OCRLine]) -> list[list[OCRLine]]:
    """Group lines into rows: a line joins the row above when its centre lies within that row's height."""
    rows: list[list[OCRLine]] = []
    for line in sorted(lines, key=lambda item: (_top(item), _left(item))):
        if rows:
            last = rows[-1]
            top = min(_top(item) for item in last)
            bottom = max(_bottom(item) for item in last)
            if top <= (_top(line) + _bottom(line)) / 2 <= bottom:
                last.append(line)
                continue
        rows.append([line])
    return [sorted(row, key=_left) for row in rows]


def reading_order(lines: list[OCRLine]) -> list[OCRLine]:
    """Top to bottom by rows, left to right within a row."""
    return [line for row in _rows(lines) for line in row]


def join_lines(lines: list[OCRLine]) -> str:
    return "\n".join(" ".join(line.text for line in row) for row in _rows(lines))


def _top(line: OCRLine) -> float:
    return min(y for _, y in line.box)


def _bottom(line: OCRLine) -> float:
    return max(y for _, y in line.box)


def _left(line: OCRLine) -> float:
    return min(x for x, _ in line.box)


class OCREngine:
    """One rapidocr pipeline (detect, orient, recognise). Thread-safe: reads are serialised by a lock."""

    def __init__(self, config: OCRConfig = OCRConfig()) -> None:
        problems = config.validate()
        if problems:
            raise ValueError("invalid OCR config: " + "; ".join(problems))
        self.config = config
        self._models: OCRModels | None = None
        self._ocr = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.models.model_id

    @property
    def models(self) -> OCRModels:
        if self._models is None:
            self._models = resolve_models(self.config.model_dir)
        return self._models

    def load(self) -> None:
        """Build the rapidocr pipeline with explicit model paths (so it never tries its downloader)."""
        if self._ocr is not None:
            return
        from rapidocr import RapidOCR  # imported late: cv2 and onnxruntime take a while

        models = self.models
        threads = self.config.threads or -1  # rapidocr's -1 = onnxruntime's default
        params = {
            "Global.log_level": "warning",
            "Global.text_score": self.config.min_score,
            "Global.use_cls": self.config.use_angle_classifier and models.cls is not None,
            # We scale images ourselves; rapidocr's own limit would only shrink them again.
            "Global.max_side_len": max(self.config.max_side, 2000),
            "Det.model_path": models.det,
            "Rec.model_path": models.rec,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1 if self.config.threads else -1,
        }
        if models.cls is not None:
            params["Cls.model_path"] = models.cls
        if models.keys is not None:
            params["Rec.rec_keys_path"] = models.keys
        logging.getLogger("RapidOCR").setLevel(logging.WARNING)
        self._ocr = RapidOCR(params=params)

    def read(self, image_bytes: bytes) -> OCRResult:
        """Every text line scoring at least `min_score`, in reading order; OCRError for unreadable bytes."""
        try:
            decoded = decode_image(image_bytes, DECODE)
        except MediaError as error:
            raise OCRError(f"cannot read the image: {error.reason}") from None
        image = decoded.image
        scale = min(1.0, self.config.max_side / max(image.size))
        if scale < 1.0:
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            image = image.resize(size, Image.Resampling.LANCZOS)
        bgr = np.ascontiguousarray(np.asarray(image)[:, :, ::-1])  # rapidocr takes arrays as OpenCV's BGR
        with self._lock:
            self.load()
            output = self._ocr(bgr)
        lines = []
        if output.boxes is not None and output.txts is not None:
            for box, text, score in zip(output.boxes, output.txts, output.scores, strict=True):
                if not text.strip() or score < self.config.min_score:
                    continue
                corners = tuple((round(float(x) / scale, 1), round(float(y) / scale, 1)) for x, y in box)
                lines.append(OCRLine(text.strip(), round(float(score), 4), corners))  # type: ignore[arg-type]
        return OCRResult(reading_order(lines), decoded.width, decoded.height, self.model_id)

    def close(self) -> None:
        with self._lock:
            self._ocr = None


_SHARED: dict[OCRConfig, OCREngine] = {}
_SHARED_LOCK = threading.Lock()


def shared_engine(config: OCRConfig = OCRConfig()) -> OCREngine:
    """The process's one engine for `config` (models load once, on its first read)."""
    with _SHARED_LOCK:
        if config not in _SHARED:
            _SHARED[config] = OCREngine(config)
        return _SHARED[config]
