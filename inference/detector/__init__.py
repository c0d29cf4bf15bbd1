"""Object detectors (ultralytics YOLO) behind a small interface, and their Beam ModelHandler."""

from inference.detector.handler import DetectionRequest, DetectionResult, DetectorConfig, DetectorModelHandler
from inference.detector.weights import EMBEDDED, WeightsSpec, resolve_weights
from inference.detector.yolo import Detections, YoloDetector, letterbox

__all__ = [
    "EMBEDDED",
    "DetectionRequest",
    "DetectionResult",
    "DetectorConfig",
    "DetectorModelHandler",
    "Detections",
    "WeightsSpec",
    "YoloDetector",
    "letterbox",
    "resolve_weights",
]
