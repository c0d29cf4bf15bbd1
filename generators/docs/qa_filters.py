"""Which QA pairs are kept: each pair gets a kind (PixMo-Docs' mix) and is dropped with a reason when it is
empty, a duplicate, a copy of the prompt's placeholders, or a short extractive answer found nowhere in the data
or code (the QA step never sees the image, so such an answer was made up)."""

import re
from dataclasses import dataclass

KINDS = ("short", "multiple_choice", "yes_no", "summary", "unanswerable")
UNANSWERABLE = re.compile(
    r"^(unanswerable|cannot be (determined|answered)|not (shown|available|answerable))\b", re.IGNORECASE
)
PLACEHOLDERS = {"question", "answer", "short value", "...", "(a)", "option"}
SHORT_WORDS = 4  # answers up to this many words must be found in the data or code
SUMMARY_WORDS = 8  # answers this long are summaries, not extractive


@dataclass(frozen=True)
class QAPair:
    question: str
    answer: str
    kind: str


def normalise(text: str) -> str:
    """Lower case, punctuation as spaces, thousands separators dropped (1,800 -> 1800)."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text.lower())
    return re.sub(r"[^a-z0-9.%-]+", " ", text).strip(" .")


def classify(question: str, answer: str) -> str:
    if UNANSWERABLE.match(answer.strip()):
        return "unanswerable"
    if re.search(r"\(\s*[A-D]\s*\)|^\s*[A-D][).]", question, re.MULTILINE) and re.match(r"^\s*\(?[A-D]\b", answer):
        return "multiple_choice"
    if normalise(answer) in ("yes", "no"):
        return "yes_no"
    if len(answer.split()) >= SUMMARY_WORDS:
        return "summary"
    return "short"


def found_in(answer: str, sources: str) -> bool:
    """The answer, normalised, occurs in the normalised sources."""
    needle = normalise(answer)
    if not needle:
        return False
    return needle in normalise(sources)


def filter_qa(pairs: list[tuple[str, str]], data: str, code: str) -> tuple[list[QAPair], list[dict[str, str]]]:
    """(kept pairs, dropped pairs with their reason)."""
    kept: list[QAPair] = []
    dropped: list[dict[str, str]] = []
    seen: set[str] = set()
    sources = f"{data}\n{code}"
    for question, answer in pairs:
        reason = None
        kind = classify(question, answer)
        if not question.strip() or not answer.strip():
            reason = "empty question or answer"
        elif normalise(question) in seen:
            reason = "duplicate question"
        elif normalise(question) in PLACEHOLDERS or normalise(answer) in PLACEHOLDERS:
            reason = "prompt placeholder copied"
        elif normalise(answer) == normalise(question):
            reason = "answer repeats the question"
        elif kind == "short" and len(answer.split()) <= SHORT_WORDS and not found_in(answer, sources):
            reason = "short answer not found in the data or code"
        if reason:
            dropped.append({"question": question[:200], "answer": answer[:200], "reason": reason})
            continue
        seen.add(normalise(question))
        kept.append(QAPair(question, answer, kind))
    return kept, dropped
