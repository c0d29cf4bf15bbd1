"""Checks that keep a question-answer pair honest: about the image, well formed, new, answered from the caption.

A text-only model only knows what the caption says, so a question must ask about things the caption mentions and
an answer's content words, numbers and names must come from the caption (or the question). The checks are
lexical, they cannot judge meaning: a kept answer is supported by the caption's words, not proven right; an
unsupported one is never kept. Every check has a short name (`Problem.check`) for the stats funnel.
"""

import re
from typing import NamedTuple

from annotation.capqa.prompts import PROMPT_ECHOES
from annotation.capqa.words import QUESTION_VOCABULARY, content_words, names, normalised, numbers, stem

MAX_QUESTION_WORDS = 30
MAX_ANSWER_WORDS = 60
MIN_SUPPORT = 0.8  # share of the answer's content words found in the caption or the question
COPY_WORDS = 25  # an answer this long that is a verbatim stretch of the caption copies it instead of answering

_GENERIC = frozenset(stem(w) for w in QUESTION_VOCABULARY)
# The user sees an image, not a text: a turn that mentions the caption gives away how it was made.
_REFERS_TO_CAPTION = re.compile(r"\b(?:descriptions?|described|describes|captions?|the text above)\b", re.IGNORECASE)


class Problem(NamedTuple):
    check: str  # short name, e.g. "unsupported answer"
    reason: str  # the full sentence for dead letters and provenance


# Check names in the order they run: question checks, then answer checks (the funnel plots them in this order).
QUESTION_CHECKS = (
    "no question mark",
    "question too long",
    "copies the prompt",
    "refers to the caption",
    "asks about nothing",
    "asks about things not in the caption",
    "duplicate question",
)
ANSWER_CHECKS = (
    "answer too long",
    "copies the prompt",
    "refers to the caption",
    "repeats the question",
    "duplicate answer",
    "copies the caption",
    "invented number",
    "invented name",
    "says nothing",
    "unsupported answer",
)


def _echoes_prompt(text: str) -> bool:
    return any(echo in text.lower() for echo in PROMPT_ECHOES)


def question_problem(question: str, caption: str) -> Problem | None:
    """Why this question must not be asked of the caption, or None. (Duplicates are checked per conversation.)"""
    if not question.rstrip().endswith("?"):
        return Problem("no question mark", "the question does not end with a question mark")
    if len(question.split()) > MAX_QUESTION_WORDS:
        return Problem("question too long", f"the question has more than {MAX_QUESTION_WORDS} words")
    if _echoes_prompt(question):
        return Problem("copies the prompt", "the question copies the prompt's instructions")
    if _REFERS_TO_CAPTION.search(question):
        return Problem("refers to the caption", "the question mentions the description, not the image")
    asked = content_words(question)
    if not asked:
        return Problem("asks about nothing", "the question names nothing in the image")
    caption_words = set(content_words(caption))
    unknown = sorted({w for w in asked if w not in caption_words and w not in _GENERIC})
    if unknown:
        return Problem(
            "asks about things not in the caption", f"the question asks about {unknown}, which the caption never names"
        )
    return None


def answer_problem(question: str, answer: str, caption: str, seen_answers: set[str]) -> Problem | None:
    """Why this answer must not be kept, or None."""
    if len(answer.split()) > MAX_ANSWER_WORDS:
        return Problem("answer too long", f"the answer has more than {MAX_ANSWER_WORDS} words")
    if _echoes_prompt(answer):
        return Problem("copies the prompt", "the answer copies the prompt's instructions")
    if _REFERS_TO_CAPTION.search(answer):
        return Problem("refers to the caption", "the answer mentions the description, not the image")
    if normalised(answer) == normalised(question):
        return Problem("repeats the question", "the answer repeats the question")
    if normalised(answer) in seen_answers:
        return Problem("duplicate answer", "the same answer was already given to another question")
    if len(answer.split()) >= COPY_WORDS and normalised(answer) in normalised(caption):
        return Problem("copies the caption", "the answer is a long verbatim stretch of the caption")
    invented = sorted(numbers(answer) - numbers(caption) - numbers(question) - {1})  # "a man" = one man: not a count
    if invented:
        return Problem("invented number", f"numbers not in the caption: {invented}")
    known_names = {w.lower() for w in re.findall(r"[A-Za-z][\w-]*", caption + " " + question)}
    invented_names = sorted(names(answer) - known_names)
    if invented_names:
        return Problem("invented name", f"names not in the caption: {invented_names}")
    said = [w for w in content_words(answer) if w not in ("yes",)]  # yes/no answers: judge the rest
    if not said:
        if numbers(answer) or normalised(answer) in ("yes", "no"):
            return None
        return Problem("says nothing", "the answer has no content words, number, yes or no")
    supported = set(content_words(caption)) | set(content_words(question))
    support = sum(w in supported for w in said) / len(said)
    if support < MIN_SUPPORT:
        missing = sorted({w for w in said if w not in supported})
        return Problem(
            "unsupported answer",
            f"answer not supported by the caption: {support:.0%} of its content words are in it (missing {missing})",
        )
    return None
