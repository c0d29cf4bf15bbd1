"""One small function per PixMo subset: a shard row -> the Molmo conversations about its image.

The trainer's reader looks formatters up here by subset name, and reads only the columns a formatter
declares, so adding a subset is one registered function.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from formatting.clocks import CLOCK_QUESTIONS, clock_time_text
from formatting.messages import Conversation
from formatting.points import as_point_list, point_count_answer, pointing_answer
from formatting.prompts import maybe_no_point_prefix, sample_prompt


@dataclass(frozen=True)
class RowContext:
    """Where a row came from: the subset, an optional config (docs: charts/tables/...) and the split."""

    subset: str
    config: str | None = None
    split: str | None = None


RowFormatter = Callable[[dict, np.random.Generator, RowContext], list[Conversation]]


@dataclass(frozen=True)
class SubsetFormat:
    fn: RowFormatter
    columns: tuple[str, ...]  # columns the formatter reads, besides `image`


SUBSETS: dict[str, SubsetFormat] = {}


def register(name: str, columns: tuple[str, ...]) -> Callable[[RowFormatter], RowFormatter]:
    def wrap(fn: RowFormatter) -> RowFormatter:
        SUBSETS[name] = SubsetFormat(fn, columns)
        return fn

    return wrap


def format_row(row: dict, rng: np.random.Generator, ctx: RowContext) -> list[Conversation]:
    if ctx.subset not in SUBSETS:
        raise KeyError(f"no formatter for subset {ctx.subset!r}; known: {sorted(SUBSETS)}")
    return SUBSETS[ctx.subset].fn(row, rng, ctx)


@register("clocks", ("hour", "minute", "second", "question", "answer"))
def format_clocks(row: dict, rng: np.random.Generator, ctx: RowContext) -> list[Conversation]:
    # Resample the question when training so the model sees all phrasings; keep the shard's otherwise.
    question = row.get("question")
    if ctx.split == "train" or not question:
        question = CLOCK_QUESTIONS[int(rng.integers(len(CLOCK_QUESTIONS)))]
    answer = clock_time_text(int(row["hour"]), int(row["minute"]))
    meta = {"hour": int(row["hour"]), "minute": int(row["minute"]), "second": int(row.get("second") or 0)}
    return [Conversation([question, answer], "clocks", meta)]


@register("count", ("label", "count", "points"))
def format_count(row: dict, rng: np.random.Generator, ctx: RowContext) -> list[Conversation]:
    label = str(row["label"]).lower()
    points = as_point_list(row.get("points"))
    prompt = sample_prompt("point_count", rng, label=label)
    meta = {"count": int(row["count"]), "label": label, "points": points}
    return [Conversation([prompt, point_count_answer(points, label)], "point_count", meta)]


@register("points", ("label", "count", "points", "collection_method"))
def format_points(row: dict, rng: np.random.Generator, ctx: RowContext) -> list[Conversation]:
    label = str(row["label"]).lower()
    points = as_point_list(row.get("points"))
    meta = {"count": len(points), "label": label, "points": points}
    # Rows collected by counting teach point-then-count; rows collected by pointing teach pointing.
    if row.get("collection_method") == "counting":
        prompt = sample_prompt("point_count", rng, label=label)
        return [Conversation([prompt, point_count_answer(points, label)], "point_count", meta)]
    prompt = sample_prompt("pointing", rng, label=label)
    return [Conversation([prompt, pointing_answer(points, label)], "pointing", meta)]


@register("cap", ("caption", "transcripts"))
def format_cap(row: dict, rng: np.random.Generator, ctx: RowContext) -> list[Conversation]:
    # Molmo's transcript_and_caption mode: the caption plus one random transcript of the same image.
    convs = [Conversation([sample_prompt("long_caption", rng), row["caption"]], "long_caption")]
    transcripts = [t for t in (row.get("transcripts") or []) if t]
    if transcripts:
        t = transcripts[int(rng.integers(len(transcripts)))]
        convs.append(Conversation([sample_prompt("transcript", rng), t], "transcript"))
    return convs


@register("capqa", ("messages",))
def format_capqa(row: dict, rng: np.random.Generator, ctx: RowContext) -> list[Conversation]:
    messages = list(row["messages"])
    if len(messages) % 2:
        raise ValueError(f"capqa messages must alternate user/assistant, got {len(messages)} turns")
    for i in range(0, len(messages), 2):
        messages[i] = maybe_no_point_prefix(messages[i], rng)
    return [Conversation(messages, "synthetic_qa")]


def _as_list(value: object) -> list[str]:
    return list(value) if isinstance(value, list | tuple) else [value]  # type: ignore[list-item]


@register("ama", ("question", "answer"))
def format_ama(row: dict, rng: np.random.Generator, ctx: RowContext) -> list[Conversation]:
    pairs = zip(_as_list(row["question"]), _as_list(row["answer"]), strict=True)
    return [Conversation([maybe_no_point_prefix(q, rng), a], "user_qa", {"answer": a}) for q, a in pairs]


@register("docs", ("questions",))
def format_docs(row: dict, rng: np.random.Generator, ctx: RowContext) -> list[Conversation]:
    # Several QA pairs per document image; the style names the document kind like Molmo's pixmo_docs_*.
    style = f"pixmo_docs_{ctx.config}" if ctx.config else "pixmo_docs"
    qas = row["questions"]
    pairs = zip(qas["question"], qas["answer"], strict=True)
    return [Conversation([q, a], style, {"answer": a}) for q, a in pairs]
