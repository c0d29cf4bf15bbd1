"""The model's text -> one (question, answer) pair, or a reason it is malformed."""

import re

_QUESTION = re.compile(r"^\s*(?:\*\*)?\s*(?:question|q)\s*(?:\d+)?\s*(?:\*\*)?\s*[:.]\s*(?:\*\*)?\s*", re.IGNORECASE)
_ANSWER = re.compile(
    r"^\s*(?:\*\*)?\s*(?:the\s+)?(?:answer|a)\s*(?:\d+)?\s*(?:\*\*)?\s*(?:is\s*)?[:.]\s*(?:\*\*)?\s*", re.IGNORECASE
)

_INLINE_LABEL = re.compile(r"\s(?:the\s+)?(?:answer|question)\s*:", re.IGNORECASE)


class MalformedQA(ValueError):
    """The text has no usable question-answer pair."""


def parse_qa(text: str) -> tuple[str, str]:
    """The first "Question: ... / Answer: ..." pair in the text (labels may be Q:/A:, bold, numbered).

    Lines after the answer that start a new pair are ignored (small models often continue with more pairs); an
    answer may span lines until the next label. An unlabelled first line that ends with "?" counts as the question
    (small models often drop the label), but an answer always needs its label.
    """
    question: list[str] = []
    answer: list[str] = []
    state = "start"
    for line in text.strip().splitlines():
        if _QUESTION.match(line):
            if state == "answer":
                break  # the next pair begins: keep the first one
            question, state = [_QUESTION.sub("", line, count=1)], "question"
        elif state == "start" and line.strip().endswith("?") and not _ANSWER.match(line):
            question, state = [line], "question"
        elif _ANSWER.match(line) and state == "question":
            answer, state = [_ANSWER.sub("", line, count=1)], "answer"
        elif state == "question":
            question.append(line)
        elif state == "answer":
            if not line.strip():
                break
            answer.append(line)
    q, a = " ".join(" ".join(question).split()), " ".join(" ".join(answer).split())
    a = _INLINE_LABEL.split(a, maxsplit=1)[0].strip()  # "... The answer: ..." again: the model is looping
    if state == "start":
        raise MalformedQA("no 'Question:' line")
    if state == "question":
        raise MalformedQA("a question without an 'Answer:' line")
    if not q:
        raise MalformedQA("the question is empty")
    if not a:
        raise MalformedQA("the answer is empty")
    return q, a
