"""Where the OCR models come from: the ONNX files inside the rapidocr wheel, or a folder the user gives."""

import glob
import importlib.util
import os
from dataclasses import dataclass

# The models rapidocr 3.x ships in its wheel (rapidocr/models/): PP-OCRv6 detection and recognition (the
# recogniser carries its character list inside the ONNX file) and the text-direction classifier.
EMBEDDED_DET = "PP-OCRv6_det_small.onnx"
EMBEDDED_REC = "PP-OCRv6_rec_small.onnx"
EMBEDDED_CLS = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"


@dataclass(frozen=True)
class OCRModels:
    det: str
    rec: str
    cls: str | None
    keys: str | None = None  # the recogniser's character list, when its ONNX file does not carry one

    @property
    def model_id(self) -> str:
        """For provenance: the recogniser's and detector's file names."""
        return f"{os.path.basename(self.rec)}+{os.path.basename(self.det)}"


def embedded_models_dir() -> str:
    """rapidocr/models inside the installed wheel, found without importing rapidocr (slow: cv2, onnxruntime)."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("OCR needs rapidocr: pip install rapidocr onnxruntime")
    return os.path.join(next(iter(spec.submodule_search_locations)), "models")


def _one(folder: str, pattern: str, what: str, required: bool) -> str | None:
    found = sorted(glob.glob(os.path.join(folder, pattern)))
    if not found:
        if required:
            raise FileNotFoundError(f"no {what} model ({pattern}) in {folder}")
        return None
    if len(found) > 1:
        raise FileNotFoundError(
            f"several {what} models ({pattern}) in {folder}: {[os.path.basename(f) for f in found]}"
        )
    return found[0]


def resolve_models(model_dir: str | None = None) -> OCRModels:
    """The det/rec/cls ONNX files to load, or FileNotFoundError saying what is missing (never a download)."""
    if model_dir is None:
        folder = embedded_models_dir()
        paths = [os.path.join(folder, name) for name in (EMBEDDED_DET, EMBEDDED_REC, EMBEDDED_CLS)]
        missing = [p for p in paths if not os.path.isfile(p)]
        if missing:
            raise FileNotFoundError(f"rapidocr is installed but its bundled models are missing: {missing}")
        return OCRModels(*paths)
    if not os.path.isdir(model_dir):
        raise FileNotFoundError(f"OCR model folder {model_dir!r} does not exist")
    det = _one(model_dir, "*det*.onnx", "detection", required=True)
    rec = _one(model_dir, "*rec*.onnx", "recognition", required=True)
    cls = _one(model_dir, "*cls*.onnx", "direction classifier", required=False)
    keys = _one(model_dir, "*.txt", "character list", required=False)
    if keys is None and not _has_inner_keys(rec):  # type: ignore[arg-type]
        # rapidocr would download a character list from the internet: refuse instead.
        raise FileNotFoundError(f"{rec} carries no character list; put its keys .txt file in {model_dir}")
    return OCRModels(det, rec, cls, keys)  # type: ignore[arg-type]


def _has_inner_keys(onnx_path: str) -> bool:
    from onnxruntime import InferenceSession

    session = InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    return "character" in session.get_modelmeta().custom_metadata_map
