"""Turn an LLM's raw draft into an answer, or say why it is unusable."""

import re

# Role or label prefixes small models put before the answer ("Assistant:", "Answer:", "A:").
PREFIX = re.compile(r"^\s*(?:assistant|answer|a|response|draft)\s*:\s*", re.IGNORECASE)
# Where an answer stops being one: the model starts the next turn or echoes the prompt's sections.
ECHO = re.compile(
    r"\n\s*(?:question|user|assistant|image description|text in the image|ocr)\s*(?:\([^)]*\))?\s*:",
    re.IGNORECASE,
)
MIN_WORD_CHARS = 2


class Unusable(ValueError):
    """The draft is empty, an echo of the prompt or noise; the message says which."""


def clean_answer(raw: str, question: str) -> str:
    """The answer text: prefixes and prompt echoes removed, whitespace tidied; Unusable when nothing is left."""
    text = raw.replace("\r\n", "\n").strip()
    while PREFIX.match(text):
        text = PREFIX.sub("", text, count=1).strip()
    cut = ECHO.search(text)  # only later lines: the first is the answer
    if cut:
        text = text[: cut.start()].strip()
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip().strip('"').strip()
    if not text:
        raise Unusable("the model returned an empty answer")
    if sum(ch.isalnum() for ch in text) < MIN_WORD_CHARS:
        raise Unusable(f"the model returned no words: {raw.strip()[:80]!r}")
    if _normalise(text) == _normalise(question):
        raise Unusable("the model only repeated the question")
    return text


def _normalise(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()
