"""The openai backend over real HTTP: against inference.llm.serve (the real model), and against a small
misbehaving server that answers each scenario (named by the request's model) the way broken endpoints do."""

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from inference.llm import ChatMessage, GenerationParams, LLMConfig, LLMRequest, make_llm
from inference.llm.models import EMBEDDED_GGUF


def ask(question: str, key: str = "k", **params) -> LLMRequest:
    return LLMRequest(messages=[ChatMessage("user", question)], params=GenerationParams(**params), key=key)


def test_served_model_matches_the_local_backend(served_url, local_llm):
    llm = make_llm(LLMConfig(backend="openai", url=served_url, max_concurrency=4))
    questions = ["What is 2 + 2?", "Name a fruit.", "Say hello.", "What is the capital of Italy?"]
    requests = [ask(q, f"k{i}", max_new_tokens=8) for i, q in enumerate(questions)]
    # The repetition penalty travels in the request body (as vLLM reads it) and changes nothing else.
    requests.append(ask("List ten fruits.", "rp", max_new_tokens=12, repetition_penalty=1.3))
    requests.append(LLMRequest(prompt="Once upon a time", params=GenerationParams(max_new_tokens=6), key="raw"))
    results = llm.generate(requests)
    assert llm.model_id == EMBEDDED_GGUF  # discovered from /v1/models
    assert [r.key for r in results] == ["k0", "k1", "k2", "k3", "rp", "raw"]
    assert all(r.ok and r.attempts == 1 and r.model_id == EMBEDDED_GGUF for r in results)
    assert results[-1].completion_tokens == 6 and results[-1].finish_reason == "length"
    # Same weights, greedy decoding: the server (batching whatever arrives together) says what we say locally.
    assert [r.text for r in results] == [r.text for r in local_llm.generate(requests)]


def test_served_model_rejects_bad_requests_without_retrying(served_url):
    wrong = make_llm(LLMConfig(backend="openai", url=served_url, model="gpt-imaginary", backoff_s=0.01))
    result = wrong.generate([ask("hi", max_new_tokens=2)])[0]
    assert result.finish_reason == "error" and result.attempts == 1
    assert "HTTP 400" in result.error and "not served here" in result.error


class Misbehaving(BaseHTTPRequestHandler):
    """Each scenario is the request's model name; `seen` counts the attempts per scenario."""

    protocol_version = "HTTP/1.1"
    seen: Counter = Counter()
    bodies: list = []

    def log_message(self, *args) -> None:
        pass

    def reply(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except BrokenPipeError:  # the client timed out and left ("slow")
            pass

    def completion(self, text: str | None, finish: str = "stop") -> bytes:
        choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
        return json.dumps({"model": "misbehaving", "choices": [choice], "usage": {"completion_tokens": 2}}).encode()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        scenario = body["model"]
        Misbehaving.seen[scenario] += 1
        Misbehaving.bodies.append(body)
        attempt = Misbehaving.seen[scenario]
        if scenario == "no-structured-outputs" and "response_format" in body:  # as TGI or an old server says it
            self.reply(400, b'{"error": {"message": "response_format: json_schema is not supported"}}')
        elif scenario == "no-structured-outputs":
            self.reply(200, self.completion('Sure! {"n": 3}'))
        elif scenario == "429-then-ok" and attempt == 1:
            self.reply(429, b'{"error": {"message": "slow down"}}')
        elif scenario == "retry-after-huge" and attempt == 1:
            self.reply(503, b"busy", {"Retry-After": "86400"})
        elif scenario == "always-500":
            self.reply(500, b'{"error": {"message": "engine died"}}')
        elif scenario == "bad-request":
            self.reply(400, b'{"error": {"message": "max_tokens is too large"}}')
        elif scenario == "invalid-json":
            self.reply(200, b'{"choices": [')
        elif scenario == "no-choices":
            self.reply(200, b'{"object": "chat.completion", "choices": []}')
        elif scenario == "empty":
            self.reply(200, self.completion(None))
        elif scenario == "truncated":
            self.reply(200, self.completion("def f(x):\n    return", finish="length"))
        elif scenario == "slow":
            time.sleep(1.5)  # longer than the client's timeout
            self.reply(200, self.completion("too late"))
        elif scenario == "cut-off":  # promises more bytes than it sends, then hangs up
            self.send_response(200)
            self.send_header("Content-Length", "500")
            self.end_headers()
            self.wfile.write(b'{"choices": [')
            self.close_connection = True
        else:
            self.reply(200, self.completion(f"fine after {attempt}"))


@pytest.fixture(scope="module")
def misbehaving_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"  # no /v1: the client adds it
    server.shutdown()
    server.server_close()


def call(url: str, scenario: str, require_complete: bool = False):
    config = LLMConfig(
        backend="openai", url=url, model=scenario, timeout_s=0.5, max_retries=2, backoff_s=0.01, max_backoff_s=0.2
    )
    return make_llm(config).generate([ask("hi", key=scenario, max_new_tokens=4, require_complete=require_complete)])[0]


def test_retries_until_success(misbehaving_url):
    ok = call(misbehaving_url, "429-then-ok")
    assert ok.ok and ok.text == "fine after 2" and ok.attempts == 2 and ok.model_id == "misbehaving"
    # Retry-After: 86400 is honoured only up to max_backoff_s, else this test would wait a day.
    capped = call(misbehaving_url, "retry-after-huge")
    assert capped.ok and capped.text == "fine after 2" and capped.attempts == 2


@pytest.mark.parametrize(
    "scenario, attempts, reason",
    [
        ("always-500", 3, "gave up after 3 attempts: HTTP 500 from /chat/completions: engine died"),
        ("slow", 3, "gave up after 3 attempts: timed out after 0.5s"),
        ("cut-off", 3, "gave up after 3 attempts: connection failed"),
        ("bad-request", 1, "HTTP 400 from /chat/completions: max_tokens is too large"),
        ("invalid-json", 1, "malformed response from /chat/completions: invalid JSON"),
        ("no-choices", 1, "malformed response from /chat/completions: no choices"),
        ("empty", 1, "empty completion"),
    ],
)
def test_bad_responses_end_as_error_results(misbehaving_url, scenario, attempts, reason):
    result = call(misbehaving_url, scenario)
    assert result.key == scenario and result.text == ""
    assert result.error is not None and result.error.startswith(reason), result.error
    assert result.attempts == attempts and Misbehaving.seen[scenario] == attempts


def test_truncation_is_the_callers_choice(misbehaving_url):
    lenient = call(misbehaving_url, "truncated")
    assert lenient.ok and lenient.finish_reason == "length"
    strict = call(misbehaving_url, "truncated", require_complete=True)
    assert strict.finish_reason == "length" and strict.error.startswith("truncated")


def test_unreachable_endpoint():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    result = call(url, "anything")
    assert result.finish_reason == "error" and "cannot reach" in result.error and result.attempts == 3
    # With no model named, load() asks the endpoint for one: a wrong URL fails at start-up, once.
    llm = make_llm(LLMConfig(backend="openai", url=url, max_retries=1, backoff_s=0.01))
    with pytest.raises(RuntimeError, match="did not list a model"):
        llm.load()


def test_structured_outputs_through_the_served_model(served_url):
    city = {"type": "string", "maxLength": 30}
    schema = json.dumps({"type": "object", "properties": {"city": city}, "required": ["city"]})
    llm = make_llm(LLMConfig(backend="openai", url=served_url))
    result = llm.generate([ask("What is the capital of Italy?", max_new_tokens=40, json_schema=schema)])[0]
    assert result.ok and result.structured and set(json.loads(result.text)) == {"city"}
    plain = llm.generate([ask("What is the capital of Italy?", max_new_tokens=8)])[0]
    assert plain.ok and not plain.structured


def test_a_server_that_refuses_response_format_gets_plain_requests(misbehaving_url):
    config = LLMConfig(backend="openai", url=misbehaving_url, model="no-structured-outputs", backoff_s=0.01)
    llm = make_llm(config)
    schema = '{"type": "object"}'
    Misbehaving.bodies.clear()
    first, second = llm.generate([ask("n?", key="a", max_new_tokens=8, json_schema=schema)]), None
    second = llm.generate([ask("n?", key="b", max_new_tokens=8, json_schema=schema)])
    assert first[0].ok and first[0].text == 'Sure! {"n": 3}' and not first[0].structured and first[0].attempts == 2
    assert second[0].ok and second[0].attempts == 1 and not llm.response_format_ok
    assert ["response_format" in b for b in Misbehaving.bodies] == [True, False, False]
    # A 400 about something else is the request's own error, not a reason to drop structured outputs.
    bad = make_llm(LLMConfig(backend="openai", url=misbehaving_url, model="bad-request"))
    assert "max_tokens is too large" in bad.generate([ask("x", json_schema=schema)])[0].error
    assert bad.response_format_ok
