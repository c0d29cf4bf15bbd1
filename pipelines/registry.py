"""Every PixMo subset the CLI knows, built or not, and how to load the built ones."""

import importlib
from dataclasses import dataclass

from pipelines.common.subset import Subset


@dataclass(frozen=True)
class SubsetInfo:
    name: str
    summary: str
    target: str | None  # "module:Class" once the subset is built

    @property
    def built(self) -> bool:
        return self.target is not None


SUBSETS: dict[str, SubsetInfo] = {
    info.name: info
    for info in [
        SubsetInfo(
            "cap",
            "spoken image descriptions -> Whisper transcripts -> one dense caption per image",
            "pipelines.cap:Cap",
        ),
        SubsetInfo(
            "ama",
            "annotator questions answered from OCR + caption + LLM drafts, reviewed by people",
            "pipelines.ama:AMA",
        ),
        SubsetInfo(
            "points",
            "referring expressions with a click on every instance (or 'not present')",
            "pipelines.points:Points",
        ),
        SubsetInfo("capqa", "question-answer conversations an LLM writes from Cap captions", "pipelines.capqa:CapQA"),
        SubsetInfo(
            "docs",
            "charts, tables, diagrams and documents rendered from LLM-written code, with QA",
            "pipelines.docs:Docs",
        ),
        SubsetInfo(
            "clocks",
            "procedural watch and clock faces at random times, labelled with the time",
            "pipelines.clocks:Clocks",
        ),
        SubsetInfo(
            "count",
            "how-many questions from a detector's most frequent class, a point per object",
            "pipelines.count:Count",
        ),
    ]
}


def load(name: str) -> Subset:
    info = SUBSETS[name]
    if info.target is None:
        raise LookupError(f"subset {name!r} is not built yet")
    module_name, class_name = info.target.split(":")
    return getattr(importlib.import_module(module_name), class_name)()
