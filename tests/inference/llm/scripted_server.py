"""Our real OpenAI-compatible server (inference.llm.serve) in front of a scripted model, for end-to-end tests of a
pipeline's gates on replies written here (the way competent models write them) instead of the tiny model's."""

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence

from inference.llm import LLMBackend, LLMRequest, LLMResult
from inference.llm.serve import make_server


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
