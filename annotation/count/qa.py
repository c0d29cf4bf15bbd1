"""Molmo-style QA for a count label, written with the shared formatting module (the trainer reads the same).

- point-then-count: "How many people are there?" -> `Counting the <points ...>people</points> shows a total
  of 4.` (zero: `There are none.`), from `formatting.points.point_count_answer`;
- count only: the same question with Molmo's "No pointing: " prefix -> the number.
"""

from dataclasses import dataclass

from formatting.points import point_count_answer
from formatting.prompts import NO_POINT_PREFIX, PROMPTS, fill_template

QUESTION_TEMPLATE = PROMPTS["point_count"][0]  # "How many {label} are there?"


@dataclass(frozen=True)
class CountQA:
    question: str
    answer: str
    question_count_only: str
    answer_count_only: str


def count_qa(label_plural: str, xs: list[float], ys: list[float]) -> CountQA:
    question = fill_template(QUESTION_TEMPLATE, label=label_plural)
    return CountQA(
        question=question,
        answer=point_count_answer({"x": xs, "y": ys}, label_plural),
        question_count_only=NO_POINT_PREFIX[0] + question,
        answer_count_only=str(len(xs)),
    )
