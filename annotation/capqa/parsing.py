"""The model's replies -> a question, or an answer, or the reason the reply is malformed.

Lenient about the shapes small models write (labels like "Question:"/"Q:", bold, numbering, a pair where only a
question was asked for), strict about the result: one question, one answer, nothing left over from a loop.
"""

import re

_MARKUP = re.compile(r"[*_`#]+")
_QUESTION_LABEL = re.compile(r"^\s*(?:question|q)\s*\d*\s*[:.]\s*", re.IGNORECASE)
_ANSWER_LABEL = re.compile(r"^\s*(?:the\s+)?(?:answer|a)\s*\d*\s*(?:is\s*)?[:.]\s*", re.IGNORECASE)
_INLINE_LABEL = re.compile(r"\s(?:the\s+)?(?:answer|question)\s*\d*\s*:", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


class MalformedQA(ValueError):
    """The reply has no usable question or answer."""


def _lines(text: str) -> list[str]:
    return [_MARKUP.sub("", line).strip().strip("\"'“”").strip() for line in text.strip().splitlines()]


def parse_question(text: str) -> str:
    """The first question in the reply: the first line with a "?" (up to it), or the first labelled line."""
    lines = [line for line in _lines(text) if line]
    if not lines:
        raise MalformedQA("empty reply")
    for line in lines:
        if _ANSWER_LABEL.match(line) and not _QUESTION_LABEL.match(line):
            continue  # an answer the model volunteered: not a question
        body = _QUESTION_LABEL.sub("", line, count=1).strip()
        if "?" in body:
            return body[: body.index("?") + 1].strip()
    labelled = [_QUESTION_LABEL.sub("", line, count=1).strip() for line in lines if _QUESTION_LABEL.match(line)]
    if labelled and labelled[0]:
        return labelled[0]  # the question checks then say what is wrong with it
    raise MalformedQA("no question in the reply")


def parse_answer(text: str, truncated: bool = False) -> str:
    """The answer in the reply, without its label or anything after it (a new question, a blank line).

    A reply cut off by the token budget keeps its complete sentences; with none, it is malformed.
    """
    kept: list[str] = []
    for line in _lines(text):
        if not line:
            if kept:
                break
            continue
        if _QUESTION_LABEL.match(line) and not _ANSWER_LABEL.match(line):
            break  # the model goes on with a new pair
        kept.append(_ANSWER_LABEL.sub("", line, count=1) if not kept else line)
    answer = " ".join(" ".join(kept).split())
    answer = _INLINE_LABEL.split(answer, maxsplit=1)[0].strip()  # "... Answer: ..." again: the model is looping
    if truncated and answer:
        ends = [m.end() for m in _SENTENCE_END.finditer(answer)]
        if not ends:
            raise MalformedQA("the answer was cut off by the token budget before its first sentence ended")
        answer = answer[: ends[-1]]
    if not answer:
        raise MalformedQA("empty answer")
    return answer
