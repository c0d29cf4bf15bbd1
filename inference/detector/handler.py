"""DetectorModelHandler: the YOLO detector inside Beam's RunInference (batched, one model per worker process).

`requests | RunInference(DetectorModelHandler(config))` -> one DetectionResult per request; failures are
results with `error` set, never exceptions, so the pipeline turns them into dead letters.
"""

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from apache_beam.ml.inference.base import ModelHandler
from PIL import Image

from inference.detector.yolo import Detections, YoloDetector, resolve_device


@dataclass(frozen=True)
class DetectorConfig:
    weights: str = "embedded"
    device: str = "auto"  # auto (cuda if present), cpu, cuda, cuda:1, mps
    imgsz: int = 480
    score_floor: float = 0.05
    iou: float = 0.7
    batch_size: int = 8
    cpu_threads: int = 0  # torch threads on the CPU per process (0: torch's default); decides speed, never output

    def validate(self) -> list[str]:
        problems = []
        if self.imgsz < 32 or self.imgsz % 32:
            problems.append(f"detector image size must be a positive multiple of 32, got {self.imgsz}")
        if not 0.0 <= self.score_floor < 1.0:
            problems.append("detector score floor must be in [0, 1)")
        if not 0.0 < self.iou <= 1.0:
            problems.append("detector NMS IoU must be in (0, 1]")
        if self.batch_size < 1:
            problems.append("detector batch size must be at least 1")
        if self.cpu_threads < 0:
            problems.append("detector CPU threads must be 0 (default) or more")
        return problems

    def make(self) -> YoloDetector:
        return YoloDetector(self.weights, self.device, self.imgsz, self.score_floor, self.iou, self.cpu_threads)


@dataclass
class DetectionRequest:
    key: str
    # RGB as the labels will refer to it, or encoded bytes decoded to RGB only when the batch runs (so a queue of
    # requests holds compressed images, not decoded ones).
    image: Image.Image | bytes
    payload: Any = None  # carried through untouched (the pipeline's record for this image)


def as_rgb(image: Image.Image | bytes) -> Image.Image:
    if isinstance(image, bytes | bytearray):
        return Image.open(io.BytesIO(image)).convert("RGB")
    return image


@dataclass
class DetectionResult:
    key: str
    payload: Any
    detections: Detections | None
    detector_id: str
    error: str = ""


class DetectorModelHandler(ModelHandler[DetectionRequest, DetectionResult, YoloDetector]):
    def __init__(self, config: DetectorConfig) -> None:
        problems = config.validate()
        if problems:
            raise ValueError("invalid detector config: " + "; ".join(problems))
        self.config = config
        super().__init__(min_batch_size=1, max_batch_size=config.batch_size)

    def load_model(self) -> YoloDetector:
        return self.config.make().load()

    def run_inference(
        self, batch: Sequence[DetectionRequest], model: YoloDetector, inference_args: dict[str, Any] | None = None
    ) -> Iterable[DetectionResult]:
        try:
            found = model.detect([as_rgb(request.image) for request in batch])
        except Exception as error:  # a bad batch must not kill the bundle: retry one by one to isolate it
            if len(batch) > 1:
                return [r for request in batch for r in self.run_inference([request], model, inference_args)]
            reason = f"detector failed: {type(error).__name__}: {error}"
            return [DetectionResult(batch[0].key, batch[0].payload, None, model.detector_id, reason)]
        return [
            DetectionResult(request.key, request.payload, detections, model.detector_id)
            for request, detections in zip(batch, found, strict=True)
        ]

    def share_model_across_processes(self) -> bool:
        # One copy per GPU machine (N copies would not fit, and one batched model keeps the GPU busy); on CPU each
        # process runs its own copy (a shared one would serialise every process's batches behind one socket).
        return resolve_device(self.config.device).startswith("cuda")

    def get_metrics_namespace(self) -> str:
        return "Detector"
