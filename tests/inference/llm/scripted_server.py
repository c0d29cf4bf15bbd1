"""Our real OpenAI-compatible server (inference.llm.serve) in front of a scripted model, for end-to-end tests of a
pipeline's gates on replies written here (the way competent models write them) instead of the tiny model's."""

import contextlib
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from http.server import ThreadingHTTPServer

from inference.llm import LLMBackend, LLMRequest, LLMResult
from inference.llm.serve import JSONHandler, make_server


class ScriptedModel(LLMBackend):
    """Answers each request with `reply(request)` (text, or (text, finish_reason))."""

    def __init__(self, reply: Callable[[LLMRequest], str | tuple[str, str]]) -> None:
        self.reply = reply
        self.requests: list[LLMRequest] = []

    @property
    def model_id(self) -> str:
        return "scripted-model"

    def generate(self, requests: Sequence[LLMRequest]) -> list[LLMResult]:
        out = []
        for request in requests:
            self.requests.append(request)
            reply = self.reply(request)
            text, finish = reply if isinstance(reply, tuple) else (reply, "stop")
            out.append(LLMResult(key=request.key, text=text, finish_reason=finish, model_id=self.model_id))
        return out


@contextlib.contextmanager
def scripted_server(reply: Callable[[LLMRequest], str | tuple[str, str]]) -> Iterator[tuple[str, ScriptedModel]]:
    """(base URL for --llm-url, the scripted model) while the server runs on a free local port."""
    model = ScriptedModel(reply)
    server = make_server(model, "127.0.0.1", 0, batch_size=8)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", model
    finally:
        server.shutdown()
        server.server_close()


def completion(model: str, text: str, finish: str = "stop", tokens: int | None = None) -> dict:
    """An OpenAI chat-completion body with one choice."""
    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
    used = len(text.split()) if tokens is None else tokens
    return {"model": model, "choices": [choice], "usage": {"prompt_tokens": 0, "completion_tokens": used}}


@contextlib.contextmanager
def stub_server(model: str, answer: Callable[[dict], tuple[int, dict]], port: int = 0) -> Iterator[str]:
    """A bare OpenAI-compatible endpoint for tests that script the HTTP layer itself (refusals, cut replies):
    `answer(request body) -> (status, response body)` for each POST; GET lists `model`. Yields the /v1 base URL."""

    class Handler(JSONHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._send(200, {"object": "list", "data": [{"id": model, "object": "model"}]})

        def do_POST(self) -> None:
            self._send(*answer(json.loads(self.rfile.read(int(self.headers["Content-Length"])))))

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
