"""Label columns a subset's rows carry that the image alone determines, as class indices.

The `small` preset's from-scratch vision side learns far faster from a clean label than from the answer text
(bench/trainer_aux_targets.py: a 12-way hour head reaches 0.16-0.30 held out after 9.6k samples; every target
derived from the answer bytes stays at chance), so training can add an image-only classification loss on these
columns (`ModelConfig.label_aux_weight`). Evaluation never sees them: verify still scores the generated answers.
A subset without an entry here simply adds nothing to that loss.
"""

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
    # An analog face shows the hour modulo 12 (AM/PM is not on the dial).
    ImageLabel("clocks", "hour", 12, lambda m: int(m["hour"]) % 12),
)


def label_classes() -> list[int]:
    """Class count of each label, in `IMAGE_LABELS` order (one output block per label)."""
    return [label.classes for label in IMAGE_LABELS]


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
