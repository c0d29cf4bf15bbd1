"""The labels of a subset's rows that the image alone determines, as class indices (Clocks: hour, minute).

The `small` preset's from-scratch vision side learns far faster from a clean label than from the answer text
(bench/trainer_aux_targets.py: a 12-way hour head reaches 0.16-0.30 held out after 9.6k samples; every target
derived from the answer bytes stays at chance), so training adds an image-only classification loss on these
labels (`ModelConfig.label_aux_weight`; trainer/EXPERIMENTS.md, "Image labels as a training aid"). Values are
read from the formatter's conversation metadata. Evaluation never sees them: verify scores the generated
answers. A subset without an entry here adds nothing to that loss."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ImageLabel:
    subset: str
    name: str
    classes: int
    value: Callable[[dict], int]  # the formatter's conversation metadata -> class index in [0, classes)


IMAGE_LABELS: tuple[ImageLabel, ...] = (
    # An analog face shows the hour modulo 12 (AM/PM is not on the dial). The minute is there too, and learning
    # both hands made the hour start on every training seed tried (0.22-0.24 held out after 300 steps of 32,
    # seeds 1-3) where the hour alone did not (0.12 on seed 2; bench/trainer_aux_targets.py).
    ImageLabel("clocks", "hour", 12, lambda m: int(m["hour"]) % 12),
    ImageLabel("clocks", "minute", 60, lambda m: int(m["minute"])),
)


def label_classes() -> list[int]:
    """Class count of each label, in `IMAGE_LABELS` order (one output block per label)."""
    return [label.classes for label in IMAGE_LABELS]


def training_aids(image_aux_weight: float, aux_kind: str, label_aux_weight: float, subsets: list[str]) -> str:
    """One line for a report: which image-only losses training adds, and on which labels of `subsets`."""
    parts = []
    if image_aux_weight > 0:
        parts.append(f"answer tokens from the image alone ({aux_kind}, weight {image_aux_weight:g})")
    labels = [f"{lab.subset}.{lab.name}" for lab in IMAGE_LABELS if lab.subset in subsets]
    if label_aux_weight > 0 and labels:
        parts.append(f"image labels {', '.join(labels)} (weight {label_aux_weight:g})")
    return "; ".join(parts) or "none"


def image_label_matrix(metas: list[dict]) -> np.ndarray:
    """(batch, labels) int64 class indices from each example's `meta`; -1 where its subset has no such label.
    Read from the first conversation's metadata: every conversation of a row shows the same image."""
    out = np.full((len(metas), len(IMAGE_LABELS)), -1, np.int64)
    for i, meta in enumerate(metas):
        convs = meta.get("metadata") or [{}]
        for j, label in enumerate(IMAGE_LABELS):
            if meta.get("subset") == label.subset:
                value = label.value(convs[0])
                if not 0 <= value < label.classes:
                    raise ValueError(f"{label.subset}.{label.name} = {value} is outside 0..{label.classes - 1}")
                out[i, j] = value
    return out
