"""Checks that keep a question-answer pair honest: well formed, new, and answered from the caption alone.

A text-only model can only know what the caption says, so an answer's content words and numbers must come from
the caption; anything else is invented. The checks are lexical (they cannot judge meaning): a supported answer
may still be wrong, but an unsupported one is never kept.
"""

import re

from annotation.cap.captions import content_words
from annotation.capqa.prompts import PROMPT_ECHOES

MAX_QUESTION_WORDS = 40
MAX_ANSWER_WORDS = 80
MIN_SUPPORT = 0.6  # share of the answer's content words found in the caption

_NUMBER_WORDS = {
    "zero": 0, "no": 0, "one": 1, "a": 1, "an": 1, "single": 1, "two": 2, "pair": 2, "both": 2, "three": 3,
    "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "several": -1, "many": -1, "some": -1,
}  # fmt: skip


def _numbers(text: str) -> set[int]:
    """Numbers written as digits or number words (words that name no exact number are ignored)."""
    found = {int(d) for d in re.findall(r"\b\d+\b", text)}
    found |= {_NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if _NUMBER_WORDS.get(w, -1) >= 2}
    return found


def normalised(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def qa_problem(question: str, answer: str, caption: str, seen_questions: set[str]) -> str | None:
    """Why this pair must not be kept, or None."""
    if not question.rstrip().endswith("?"):
        return "the question does not end with a question mark"
    if len(question.split()) > MAX_QUESTION_WORDS or len(answer.split()) > MAX_ANSWER_WORDS:
        return "too long"
    both = (question + " " + answer).lower()
    if any(echo in both for echo in PROMPT_ECHOES):
        return "copies the prompt's instructions"
    if normalised(question) in seen_questions:
        return "duplicate question"
    if normalised(answer) == normalised(question):
        return "the answer repeats the question"
    if normalised(answer) and normalised(answer) in normalised(caption) and len(answer.split()) > 25:
        return "the answer copies the caption"
    invented_numbers = {n for n in _numbers(answer) if n >= 2} - _numbers(caption)
    if invented_numbers:
        return f"numbers not in the caption: {sorted(invented_numbers)}"
    words = [w for w in content_words(answer) if w != "yes"]  # yes/no answers: judge the rest
    if words:
        caption_words = set(content_words(caption))
        support = sum(w in caption_words for w in words) / len(words)
        if support < MIN_SUPPORT:
            return f"answer not supported by the caption ({support:.0%} of its content words are in it)"
    elif not _numbers(answer) and normalised(answer) not in ("yes", "no"):
        return "the answer says nothing (no content words, number, yes or no)"
    return None
