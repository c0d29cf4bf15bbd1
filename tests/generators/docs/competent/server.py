"""A scripted OpenAI-compatible server that answers the Docs prompts with competent replies (replies.py):

    python -m tests.generators.docs.competent.server [--port 0] [--refuse-structured]

It honours max_tokens (a reply longer than the budget is cut there, finish_reason "length", as real servers do)
and response_format (a JSON reply where one is asked for), or, with --refuse-structured, answers a request with
response_format with HTTP 400 as servers without structured outputs do. It writes one reply too long on purpose:
the first receipt it is asked for is an itemised 4k+ token document, cut at the limit; asked again shorter, it
writes the normal one. Replies are a function of the prompt, so runs are deterministic."""

from __future__ import annotations

import argparse
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from generators.docs.renderers import RENDERERS, renderer_class
from tests.generators.docs.competent import replies
from tests.generators.docs.competent.scenarios import by_title, pick
from tests.inference.llm.scripted_server import completion, stub_server

MODEL = "competent-scripted"
CHARS_PER_TOKEN = 3.0  # about what BPE tokenizers give for code and English


def _renderer_of(prompt: str) -> str:
    for name in RENDERERS:
        if renderer_class(name).CODE_INSTRUCTIONS[:60] in prompt:
            return name
    raise KeyError("no renderer's instructions in the prompt")


def answer(messages: list[dict], structured: bool) -> str:
    """The reply to a Docs prompt (the last user turn says which stage it is)."""
    last = messages[-1]["content"]
    if "Give the title of a" in last:
        persona, figure = re.search(r"You are (.+?)\. Give the title of an? (.+?) you would make", last).groups()
        return replies.topic_reply(pick(figure, persona), figure, persona)
    if "Invent realistic data" in last:
        figure = re.search(r"You are making an? (.+?) about: ", last).group(1)
        return replies.data_reply(by_title(last) or _no_scenario(last), figure, structured)
    if "Write questions a reader could answer" in last:
        figure = re.search(r'^An? (.+?) about "', last.split("and this code:")[0].splitlines()[0]).group(1)
        scenario = by_title(last.split("and this code:")[0]) or _no_scenario(last)
        return replies.qa_reply(scenario, figure, structured, verbose=scenario.name == "tents")
    # The code request (first or a repair): the first user turn after the worked exchange names it all.
    ask = next(m["content"] for m in reversed(messages) if m["role"] == "user" and m["content"].startswith("Make a"))
    figure = re.match(r"Make an? (.+?) about \"", ask).group(1)
    scenario = by_title(ask.split("Use exactly this data")[0]) or _no_scenario(ask)
    renderer = _renderer_of(ask)
    first_attempt = not last.startswith("That did not work")
    long = first_attempt and figure == "receipt"
    return replies.code_reply(scenario, renderer, figure, structured, long=long)


def _no_scenario(prompt: str) -> Any:
    raise KeyError(f"no scenario for prompt {prompt[:120]!r}")


def respond(body: dict, refuse_structured: bool) -> tuple[int, dict]:
    """(status, body) for one chat-completion request."""
    structured = "response_format" in body
    if structured and refuse_structured:
        return 400, {"error": {"message": "response_format is not supported by this server"}}
    try:
        text = answer(body["messages"], structured)
    except (KeyError, AttributeError, StopIteration) as error:
        return 400, {"error": {"message": f"scripted server cannot answer: {error}"}}
    limit = int(body.get("max_tokens") or 256)
    tokens = max(1, round(len(text) / CHARS_PER_TOKEN))
    finish = "stop"
    if tokens > limit:
        text, tokens, finish = text[: int(limit * CHARS_PER_TOKEN)], limit, "length"
    return 200, completion(MODEL, text, finish, tokens)


@contextmanager
def serving(refuse_structured: bool = False, port: int = 0) -> Iterator[str]:
    """The server on a free local port, in a thread; yields its base URL."""
    with stub_server(MODEL, lambda body: respond(body, refuse_structured), port) as url:
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--refuse-structured", action="store_true")
    args = parser.parse_args()
    with serving(args.refuse_structured, args.port) as url:
        print(f"serving {MODEL} on {url}", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
