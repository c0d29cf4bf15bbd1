"""PixMo-Count labels from detections: the most frequent class, its count, a point per object, and QA."""

from annotation.count.counting import CountConfig, CountRejected, CountResult, count_objects, merge_duplicates
from annotation.count.labels import plural
from annotation.count.qa import CountQA, count_qa

__all__ = [
    "CountConfig",
    "CountQA",
    "CountRejected",
    "CountResult",
    "count_objects",
    "count_qa",
    "merge_duplicates",
    "plural",
]
