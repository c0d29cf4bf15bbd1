"""A scripted OpenAI-compatible server that answers the Docs prompts with competent replies (replies.py):

    python -m tests.generators.docs.competent.server [--port 0] [--refuse-structured]

It honours max_tokens (a reply longer than the budget is cut there, finish_reason "length", as real servers do)
and response_format (a JSON reply where one is asked for), or, with --refuse-structured, answers a request with
response_format with HTTP 400 as servers without structured outputs do. It writes one reply too long on purpose:
the first receipt it is asked for is an itemised 4k+ token document, cut at the limit; asked again shorter, it
writes the normal one. Replies are a function of the prompt, so runs are deterministic."""

from __future__ import annotations

import argparse
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from generators.docs.renderers import RENDERERS, renderer_class
from tests.generators.docs.competent import replies
from tests.generators.docs.competent.scenarios import by_title, pick

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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    refuse_structured = False

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._send(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        structured = "response_format" in body
        if structured and self.refuse_structured:
            self._send(400, {"error": {"message": "response_format is not supported by this server"}})
            return
        try:
            text = answer(body["messages"], structured)
        except (KeyError, AttributeError, StopIteration) as error:
            self._send(400, {"error": {"message": f"scripted server cannot answer: {error}"}})
            return
        limit = int(body.get("max_tokens") or 256)
        tokens = max(1, round(len(text) / CHARS_PER_TOKEN))
        finish = "stop"
        if tokens > limit:
            text, tokens, finish = text[: int(limit * CHARS_PER_TOKEN)], limit, "length"
        choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
        usage = {"prompt_tokens": 0, "completion_tokens": tokens}
        self._send(200, {"model": MODEL, "choices": [choice], "usage": usage})


@contextmanager
def serving(refuse_structured: bool = False, port: int = 0) -> Iterator[str]:
    """The server on a free local port, in a thread; yields its base URL."""
    handler = type("CompetentHandler", (Handler,), {"refuse_structured": refuse_structured})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


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
