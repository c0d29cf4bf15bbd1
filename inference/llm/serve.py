"""A small OpenAI-compatible HTTP server for a local model (transformers backend): /v1/chat/completions,
/v1/completions and /v1/models. Concurrent requests are gathered into batches, so several pipelines (or one
with --llm-concurrency > 1) share one model copy and its batched throughput.

    python -m inference.llm.serve [--model PATH_OR_HUB_NAME] [--host 127.0.0.1] [--port 8000] [--batch-size 8]

Then run any subset with --llm-backend openai --llm-url http://127.0.0.1:8000/v1. Not streaming, n=1 only.
Structured outputs (response_format json_schema / json_object) are decoded under the schema (grammar.py).
"""

import argparse
import json
import logging
import queue
import threading
import time
import uuid
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from inference.llm.backend import LLMBackend
from inference.llm.config import DEVICES, DTYPES, LLMConfig
from inference.llm.transformers_backend import TransformersBackend
from inference.llm.types import ChatMessage, GenerationParams, LLMRequest, LLMResult

log = logging.getLogger(__name__)


class BadRequest(Exception):
    pass


class Batcher:
    """Gathers requests from the HTTP threads into batches for one model, on one thread."""

    def __init__(self, backend: LLMBackend, batch_size: int, wait_s: float = 0.01) -> None:
        self.backend, self.batch_size, self.wait_s = backend, batch_size, wait_s
        self._queue: queue.Queue[tuple[LLMRequest, Future]] = queue.Queue()
        threading.Thread(target=self._loop, name="llm-batcher", daemon=True).start()

    def submit(self, request: LLMRequest) -> LLMResult:
        future: Future = Future()
        self._queue.put((request, future))
        return future.result()

    def _loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            deadline = time.monotonic() + self.wait_s  # a moment for the requests sent alongside to arrive
            while len(batch) < self.batch_size:
                try:
                    batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            try:
                results = self.backend.generate([request for request, _ in batch])
                for (_, future), result in zip(batch, results, strict=True):
                    future.set_result(result)
            except Exception as error:  # keep serving; each waiting request gets the failure
                for _, future in batch:
                    future.set_exception(error)


def parse_request(body: Any, chat: bool, served: str) -> LLMRequest:
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    if body.get("model") not in (None, served):
        raise BadRequest(f"model {body.get('model')!r} is not served here (this server serves {served!r})")
    if body.get("stream"):
        raise BadRequest("streaming is not supported")
    if body.get("n", 1) != 1:
        raise BadRequest("only n=1 is supported")
    stop = body.get("stop") or ()
    try:
        params = GenerationParams(
            max_new_tokens=int(body.get("max_completion_tokens") or body.get("max_tokens") or 256),
            temperature=float(body.get("temperature", 1.0)),
            top_p=float(body.get("top_p", 1.0)),
            seed=None if body.get("seed") is None else int(body["seed"]),
            repetition_penalty=float(body.get("repetition_penalty", 1.0)),
            stop=(stop,) if isinstance(stop, str) else tuple(str(s) for s in stop),
            json_schema=schema_of(body.get("response_format")),
        )
        if chat:
            messages = [ChatMessage(str(m["role"]), _content_text(m.get("content"))) for m in body["messages"]]
            request = LLMRequest(messages=messages, params=params)
        else:
            if not isinstance(body.get("prompt"), str):
                raise BadRequest("prompt must be one string")
            request = LLMRequest(prompt=body["prompt"], params=params)
    except (KeyError, TypeError, ValueError) as error:
        raise BadRequest(f"invalid request: {type(error).__name__}: {error}") from None
    problem = request.problem()
    if problem:
        raise BadRequest(problem)
    return request


def schema_of(response_format: Any) -> str | None:
    """The JSON schema a request's response_format asks for (as JSON text), or None for plain text."""
    if response_format is None:
        return None
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return json.dumps({"type": "object"})
    if kind == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
        if not isinstance(schema, dict):
            raise BadRequest("response_format.json_schema.schema must be a JSON schema object")
        return json.dumps(schema)
    raise BadRequest(f"response_format type {kind!r} is not supported (text, json_object, json_schema)")


def _content_text(content: Any) -> str:
    """Message content as text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    raise BadRequest("message content must be a string or a list of text parts")


def completion_body(result: LLMResult, chat: bool, served: str) -> dict:
    choice: dict[str, Any] = {"index": 0, "finish_reason": result.finish_reason}
    if chat:
        choice["message"] = {"role": "assistant", "content": result.text}
    else:
        choice["text"] = result.text
    return {
        "id": f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex}",
        "object": "chat.completion" if chat else "text_completion",
        "created": int(time.time()),
        "model": served,
        "choices": [choice],
        "usage": {
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "total_tokens": result.prompt_tokens + result.completion_tokens,
        },
    }


class JSONHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive with JSON replies: the base of this server's handler (and of the tests' scripted one)."""

    protocol_version = "HTTP/1.1"

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def make_server(backend: LLMBackend, host: str, port: int, batch_size: int) -> ThreadingHTTPServer:
    """A ready (bound, not yet serving) server; port 0 picks a free port (see server.server_address)."""
    batcher = Batcher(backend, batch_size)
    served = backend.model_id

    class Handler(JSONHandler):
        def log_message(self, format: str, *args: Any) -> None:  # route access logs to logging, not stderr
            log.debug("%s " + format, self.address_string(), *args)

        def _error(self, status: int, message: str, kind: str) -> None:
            self._send(status, {"error": {"message": message, "type": kind, "code": status}})

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                model = {"id": served, "object": "model", "created": 0, "owned_by": "pixmo-pipeline"}
                self._send(200, {"object": "list", "data": [model]})
            elif self.path == "/health":
                self._send(200, {"status": "ok"})
            else:
                self._error(404, f"no route {self.path}", "not_found_error")

        def do_POST(self) -> None:
            path = self.path.rstrip("/")
            if path not in ("/v1/chat/completions", "/v1/completions"):
                self._error(404, f"no route {self.path}", "not_found_error")
                return
            chat = path == "/v1/chat/completions"
            try:
                length = int(self.headers.get("Content-Length") or 0)
                request = parse_request(json.loads(self.rfile.read(length) or b"null"), chat, served)
            except (BadRequest, ValueError) as error:
                self._error(400, str(error), "invalid_request_error")
                return
            try:
                result = batcher.submit(request)
            except Exception as error:
                self._error(500, f"generation failed: {type(error).__name__}: {error}", "server_error")
                return
            if result.finish_reason == "error":  # the request could not run (e.g. longer than the context)
                self._error(400, result.error or "generation failed", "invalid_request_error")
                return
            self._send(200, completion_body(result, chat, served))

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="HF dir, .gguf file or hub name (default: embedded SmolLM2).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port (printed at start).")
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--dtype", choices=DTYPES, default="auto")
    parser.add_argument("--batch-size", type=int, default=8, help="Requests per forward pass (default: 8).")
    parser.add_argument("--cpu-threads", type=int, default=0, help="torch threads on CPU (default: 0 = all cores).")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = LLMConfig(
        model=args.model, device=args.device, dtype=args.dtype, batch_size=args.batch_size, cpu_threads=args.cpu_threads
    )
    problems = config.validate()
    if problems:
        parser.error("; ".join(problems))
    backend = TransformersBackend(config)
    backend.load()  # before listening: a client that can connect can be served
    server = make_server(backend, args.host, args.port, args.batch_size)
    host, port = server.server_address[:2]
    # Tests and scripts wait for this line (and read the port from it when --port 0).
    print(f"serving {backend.model_id} on http://{host}:{port}/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
