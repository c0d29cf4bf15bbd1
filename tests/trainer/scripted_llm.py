"""A scripted OpenAI-compatible server that answers the Docs, Cap and CapQA prompts the way a strong model would,
so the mixed-subset verify test can make real shards of those subsets in seconds (the embedded 135M model is too
slow and too weak for that; the pipelines' own tests run it)."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

from inference.llm import ChatMessage, LLMRequest
from tests.generators.docs.fake_llm import scripted_reply as docs_reply
from tests.inference.llm.scripted_server import completion, stub_server

MODEL = "scripted-strong-model"


def caption_reply(prompt: str) -> str:
    """A Cap caption: the transcript rewritten as one written paragraph (fillers gone, nothing added)."""
    spoken = re.search(r'"(.*)"', prompt, re.DOTALL).group(1)
    text = re.sub(r"(?i)\b(?:um|uh|erm|hmm)\b[,.]?\s*", "", spoken).strip()
    return "In this photo, " + text[0].lower() + text[1:]


def _sentences(caption: str) -> list[str]:
    return [s.strip() for s in re.findall(r"[^.!?]+[.!?]", caption) if len(s.split()) >= 3]


def _nouns(caption: str) -> list[str]:
    words = re.findall(r"[a-z]{4,}", caption.lower())
    skip = {"this", "that", "with", "photo", "there", "their", "they", "stand", "stands", "front", "next"}
    return list(dict.fromkeys(w for w in words if w not in skip))


def capqa_reply(prompt: str) -> str:
    """CapQA: a question about a word of the caption (a different one per focus), or its answer (the caption's
    sentence that names it)."""
    caption = re.search(r"Description: (.*?)\n\n", prompt, re.DOTALL).group(1)
    if "Question about the photo:" in prompt:
        question = re.search(r"Question about the photo: (.*?)\n\n", prompt, re.DOTALL).group(1)
        word = question.rstrip("?").split()[-1]
        return next((s for s in _sentences(caption) if word in s.lower()), _sentences(caption)[0])
    focus = re.search(r"could ask about (.*?)\. ", prompt).group(1)
    nouns = _nouns(caption)
    from annotation.capqa.prompts import FOCUSES

    index = FOCUSES.index(focus) if focus in FOCUSES else 0
    return f"Where is the {nouns[index % len(nouns)]}?"


def reply(messages: list[dict]) -> str:
    prompt = messages[-1]["content"]
    if "while looking at" in prompt and "Rewrite it" in prompt:
        return caption_reply(prompt)
    if prompt.startswith("Description: "):
        return capqa_reply(prompt)
    request = LLMRequest(messages=tuple(ChatMessage(m["role"], m["content"]) for m in messages), key="")
    return docs_reply(request)


@contextmanager
def scripted_server() -> Iterator[str]:
    """Serve on a free local port; yields the base URL (the client adds /v1)."""
    with stub_server(MODEL, lambda body: (200, completion(MODEL, reply(body["messages"])))) as url:
        yield url.removesuffix("/v1")
