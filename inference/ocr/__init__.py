"""OCR (rapidocr's PP-OCR ONNX models, shipped inside its wheel) behind a small interface: bytes in, lines out."""

from inference.ocr.config import OCRConfig
from inference.ocr.engine import OCREngine, OCRError, OCRLine, OCRResult, shared_engine
from inference.ocr.models import OCRModels, resolve_models

__all__ = [
    "OCRConfig",
    "OCREngine",
    "OCRError",
    "OCRLine",
    "OCRModels",
    "OCRResult",
    "resolve_models",
    "shared_engine",
]
