"""From one image's detections to a count label, or a reason not to label it.

1. Detections below `min_score - ambiguity_margin` are noise and dropped.
2. Duplicates are merged per label (greedy NMS at `merge_iou`), across the model's classes that mean the same
   thing: the embedded detector may report one person as both "Normal" and "Fall".
3. Survivors at or above `min_score` are objects; those in the band just below are *uncertain*.
4. The label with the most objects wins. A tie, or any uncertain object of the winning label, rejects the image
   (a person would have to look; guessing would put wrong counts in the data).
5. More than `max_count` objects: rejected, or capped to the `max_count` best (`too_many="cap"`).
6. No objects at all: a count of 0 for `zero_label` (PixMo asks "how many" of things that are absent too),
   unless something uncertain of that label is there, or `zero="reject"`.
Points are the box centres in percent of width/height (0-100), as Molmo writes them.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Box = tuple[float, float, float, float]


class CountRejected(Exception):
    """An image that gets no count label, with the reason (the pipeline writes it as a dead letter)."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


@dataclass(frozen=True)
class CountConfig:
    min_score: float = 0.3
    ambiguity_margin: float = 0.1
    merge_iou: float = 0.5
    max_count: int = 10
    too_many: str = "reject"  # or "cap"
    zero: str = "keep"  # or "reject"
    zero_label: str = "person"

    def validate(self) -> list[str]:
        problems = []
        if not 0.0 < self.min_score <= 1.0:
            problems.append("--min-score must be in (0, 1]")
        if not 0.0 <= self.ambiguity_margin < self.min_score:
            problems.append("--ambiguity-margin must be 0 or more and below --min-score")
        if not 0.0 < self.merge_iou <= 1.0:
            problems.append("--merge-iou must be in (0, 1]")
        if self.max_count < 1:
            problems.append("--max-count must be at least 1")
        if self.too_many not in ("reject", "cap"):
            problems.append("--too-many must be reject or cap")
        if self.zero not in ("keep", "reject"):
            problems.append("--zero-counts must be keep or reject")
        return problems


@dataclass
class CountResult:
    label: str  # the counted class (singular, e.g. "person")
    count: int
    boxes: list[Box] = field(default_factory=list)  # pixels, sorted like the points
    scores: list[float] = field(default_factory=list)
    xs: list[float] = field(default_factory=list)  # percent of width
    ys: list[float] = field(default_factory=list)  # percent of height
    per_label: dict[str, int] = field(default_factory=dict)  # objects of every label, for stats
    capped_from: int | None = None  # the count before capping, when too_many="cap" cut it


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def merge_duplicates(boxes: Sequence[Box], scores: Sequence[float], threshold: float) -> list[int]:
    """Greedy NMS: indices of the boxes kept, best score first (ties broken by position, so it is stable)."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], boxes[i]))
    kept: list[int] = []
    for i in order:
        if all(iou(boxes[i], boxes[j]) <= threshold for j in kept):
            kept.append(i)
    return kept


def count_objects(
    boxes: Sequence[Box],
    scores: Sequence[float],
    labels: Sequence[str],
    width: int,
    height: int,
    config: CountConfig = CountConfig(),
) -> CountResult:
    """The count label for one image's detections (labels already mapped to their meaning)."""
    if not len(boxes) == len(scores) == len(labels):
        raise ValueError("boxes, scores and labels must have the same length")
    floor = config.min_score - config.ambiguity_margin
    confident: dict[str, list[int]] = {}
    uncertain: dict[str, list[int]] = {}
    for label in sorted(set(labels)):
        idx = [i for i in range(len(scores)) if labels[i] == label and scores[i] >= floor]
        kept = merge_duplicates([boxes[i] for i in idx], [scores[i] for i in idx], config.merge_iou)
        for k in kept:
            i = idx[k]
            (confident if scores[i] >= config.min_score else uncertain).setdefault(label, []).append(i)
    per_label = {label: len(found) for label, found in sorted(confident.items())}

    if not per_label:
        label = config.zero_label
        if uncertain.get(label):
            raise _ambiguous(label, [scores[i] for i in uncertain[label]], config)
        if config.zero == "reject":
            raise CountRejected(f"nothing detected at score >= {config.min_score:g}")
        return CountResult(label, 0, per_label={})

    best = max(per_label.values())
    winners = [label for label, n in per_label.items() if n == best]
    if len(winners) > 1:
        raise CountRejected(
            f"tie for the most frequent class: {' = '.join(winners)} ({best} each)", per_label=per_label
        )
    label = winners[0]
    if uncertain.get(label):
        raise _ambiguous(label, [scores[i] for i in uncertain[label]], config, per_label)

    chosen = sorted(confident[label], key=lambda i: -scores[i])
    capped_from = None
    if len(chosen) > config.max_count:
        if config.too_many == "reject":
            raise CountRejected(
                f"too many: {len(chosen)} {label} (max {config.max_count})", count=len(chosen), label=label
            )
        capped_from = len(chosen)
        chosen = chosen[: config.max_count]

    objects = []
    for i in chosen:
        x0, y0, x1, y1 = boxes[i]
        cx = float(np.clip((x0 + x1) / 2 / width * 100.0, 0.0, 100.0))
        cy = float(np.clip((y0 + y1) / 2 / height * 100.0, 0.0, 100.0))
        objects.append((cx, cy, tuple(float(v) for v in boxes[i]), float(scores[i])))
    objects.sort(key=lambda o: (o[0], o[1]))  # left to right, as the answer text lists them
    return CountResult(
        label=label,
        count=len(objects),
        boxes=[o[2] for o in objects],
        scores=[o[3] for o in objects],
        xs=[o[0] for o in objects],
        ys=[o[1] for o in objects],
        per_label=per_label,
        capped_from=capped_from,
    )


def _ambiguous(
    label: str, scores: list[float], config: CountConfig, per_label: dict[str, int] | None = None
) -> CountRejected:
    low = config.min_score - config.ambiguity_margin
    return CountRejected(
        f"ambiguous: {len(scores)} {label} scored between {low:.2f} and {config.min_score:.2f}",
        uncertain_scores=sorted(round(s, 3) for s in scores),
        per_label=per_label or {},
    )
