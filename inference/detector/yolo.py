"""An ultralytics YOLO detector behind a small interface: RGB images in, boxes/scores/labels out.

Each image is letterboxed on its own to a square `imgsz` (ultralytics pads a batch of mixed shapes to a
square, but a batch of equal shapes to a tighter rectangle, so its results would depend on which images
share a batch); the batch then goes through the network as one tensor. Boxes come back in the original
image's pixels.

ultralytics is imported lazily, with YOLO_OFFLINE=1 unless the caller set it: no update checks, no analytics,
no font or weight downloads (set YOLO_OFFLINE=0 yourself to let it download named weights such as yolo11x.pt).
"""

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from inference.detector.weights import WeightsSpec, resolve_weights

PAD_VALUE = 114  # ultralytics' letterbox grey
STRIDE = 32


@dataclass
class Detections:
    """One image's detections, in its own pixel coordinates; `labels` are the classes' meanings."""

    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)  # x0, y0, x1, y1
    scores: list[float] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)  # the model's class names
    labels: list[str] = field(default_factory=list)  # what they mean (embedded: Normal/Fall -> person)

    def __len__(self) -> int:
        return len(self.scores)


@dataclass(frozen=True)
class Letterbox:
    scale: float
    pad_x: int
    pad_y: int
    width: int
    height: int

    def to_image(self, box: np.ndarray) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = box.tolist()
        xs = [min(max((v - self.pad_x) / self.scale, 0.0), self.width) for v in (x0, x1)]
        ys = [min(max((v - self.pad_y) / self.scale, 0.0), self.height) for v in (y0, y1)]
        return xs[0], ys[0], xs[1], ys[1]


def letterbox(image: Image.Image, size: int) -> tuple[np.ndarray, Letterbox]:
    """`image` scaled to fit a size x size square, centred on grey; HWC uint8 RGB and the mapping back.

    The same arithmetic and OpenCV resize as ultralytics' own LetterBox, so scores match `model.predict` on the
    file: this detector's scores near the threshold move by several hundredths with another resampler.
    """
    import cv2

    array = np.asarray(image.convert("RGB"))
    height, width = array.shape[:2]
    scale = min(size / height, size / width)
    new_w, new_h = round(width * scale), round(height * scale)
    if (new_w, new_h) != (width, height):
        array = cv2.resize(array, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    dw, dh = (size - new_w) / 2, (size - new_h) / 2
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    pad = (PAD_VALUE, PAD_VALUE, PAD_VALUE)
    array = cv2.copyMakeBorder(array, top, bottom, left, right, cv2.BORDER_CONSTANT, value=pad)
    return np.ascontiguousarray(array), Letterbox(scale, left, top, width, height)


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda:0" if torch.cuda.is_available() else "cpu"


class YoloDetector:
    """`YoloDetector("embedded").load()`, then `detect([PIL images])` -> one Detections per image."""

    def __init__(
        self,
        weights: str = "embedded",
        device: str = "auto",
        imgsz: int = 480,
        score_floor: float = 0.05,
        iou: float = 0.7,
        cpu_threads: int = 0,
    ) -> None:
        if imgsz % STRIDE:
            raise ValueError(f"imgsz must be a multiple of {STRIDE}, got {imgsz}")
        self.weights = weights
        self.device = device
        self.imgsz = imgsz
        self.score_floor = score_floor  # the model's own cut; the strict threshold is applied later
        self.iou = iou
        self.cpu_threads = cpu_threads
        self.spec: WeightsSpec | None = None
        self.model: Any = None
        self.names: dict[int, str] = {}
        self.resolved_device = "cpu"

    @property
    def detector_id(self) -> str:
        return (self.spec or resolve_weights(self.weights)).detector_id

    def load(self) -> "YoloDetector":
        os.environ.setdefault("YOLO_OFFLINE", "1")
        os.environ.setdefault("YOLO_VERBOSE", "False")
        from PIL import Image as PILImage
        from ultralytics import YOLO
        from ultralytics.utils import patches

        # ultralytics replaces PIL.Image.open process-wide with a wrapper that may pip-install a HEIF plugin when
        # PIL can't identify a file; this process also decodes untrusted images, so put PIL's own back.
        PILImage.open = getattr(patches, "_image_open", PILImage.open)

        self.spec = resolve_weights(self.weights)
        self.resolved_device = resolve_device(self.device)
        if self.resolved_device == "cpu" and self.cpu_threads:
            import torch

            # Local workers share the cores: more threads than a worker's share only adds contention.
            torch.set_num_threads(self.cpu_threads)
        self.model = YOLO(self.spec.source, task="detect")
        self.model.to(self.resolved_device)
        self.names = dict(self.model.names)
        return self

    def label_of(self, class_name: str) -> str:
        assert self.spec is not None, "load() first"
        return self.spec.class_labels.get(class_name, class_name)

    def detect(self, images: list[Image.Image]) -> list[Detections]:
        if self.model is None:
            raise RuntimeError("YoloDetector.load() was not called")
        if not images:
            return []
        import torch

        arrays, boxes = zip(*(letterbox(image, self.imgsz) for image in images), strict=True)
        batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float().div_(255.0)
        results = self.model.predict(
            batch,
            imgsz=self.imgsz,
            conf=self.score_floor,
            iou=self.iou,
            device=self.resolved_device,
            verbose=False,
        )
        out = []
        for result, box_map in zip(results, boxes, strict=True):
            xyxy = result.boxes.xyxy.cpu().numpy()
            scores = result.boxes.conf.cpu().numpy().tolist()
            classes = [self.names[int(c)] for c in result.boxes.cls.cpu().numpy().tolist()]
            out.append(
                Detections(
                    boxes=[box_map.to_image(b) for b in xyxy],
                    scores=[float(s) for s in scores],
                    classes=classes,
                    labels=[self.label_of(c) for c in classes],
                )
            )
        return out
