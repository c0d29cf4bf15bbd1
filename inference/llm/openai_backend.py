"""Any OpenAI-compatible endpoint (vLLM serve, llama.cpp server, SGLang, TGI, inference.llm.serve) over plain
HTTP: a bounded thread pool, retries with exponential backoff and jitter, Retry-After honoured up to a cap.
Every failure ends as a result with `error` set, never as an exception."""

import email.utils
import http.client
import json
import logging
import os
import random
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from inference.llm.backend import LLMBackend
from inference.llm.config import LLMConfig
from inference.llm.types import LLMRequest, LLMResult, check_result, error_result

RETRY_STATUS = {408, 409, 425, 429}  # plus every 5xx

log = logging.getLogger(__name__)


class _Retryable(Exception):
    """A failure worth another attempt (overload, server error, timeout, dropped connection)."""

    def __init__(self, reason: str, retry_after: str | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _Rejected(Exception):
    """A failure another attempt would repeat (4xx, malformed response), or the last of too many retries."""

    def __init__(self, reason: str, attempts: int = 1) -> None:
        super().__init__(reason)
        self.attempts = attempts


def base_url(url: str) -> str:
    """The API root: a bare host gets /v1 (what vLLM, llama.cpp and TGI serve); any other path is kept."""
    url = url.rstrip("/")
    return url + "/v1" if urllib.parse.urlsplit(url).path in ("", "/") else url


def retry_delay(attempt: int, retry_after: str | None, backoff_s: float, max_backoff_s: float) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...): the server's Retry-After if it gave one, else
    exponential backoff with jitter (so many workers do not retry in lockstep); never more than max_backoff_s."""
    if retry_after:
        seconds = _parse_retry_after(retry_after)
        if seconds is not None:
            return min(max(seconds, 0.0), max_backoff_s)
    delay = min(backoff_s * 2 ** (attempt - 1), max_backoff_s)
    return random.uniform(delay / 2, delay)


def _parse_retry_after(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        pass
    try:  # the HTTP-date form
        return email.utils.parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError):
        return None


class OpenAIBackend(LLMBackend):
    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self.url = base_url(config.url or "")
        self._model = config.model  # None: asked from /models on first use
        # Until the server refuses one: then every later request goes without (and is marked unstructured).
        self.response_format_ok = True

    @property
    def model_id(self) -> str:
        return self._model or "?"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.config.api_key_env) if self.config.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _call(self, method: str, path: str, body: dict | None = None) -> Any:
        """One HTTP exchange; the parsed JSON body, or _Retryable / _Rejected."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, headers=self._headers(), method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            detail = _error_detail(error)
            reason = f"HTTP {error.code} from {path}: {detail}"
            if error.code in RETRY_STATUS or error.code >= 500:
                raise _Retryable(reason, error.headers.get("Retry-After")) from None
            raise _Rejected(reason) from None
        except TimeoutError:
            raise _Retryable(f"timed out after {self.config.timeout_s:g}s waiting for {path}") from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise _Retryable(f"timed out after {self.config.timeout_s:g}s waiting for {path}") from None
            raise _Retryable(f"cannot reach {self.url}: {error.reason}") from None
        except (http.client.HTTPException, ConnectionError) as error:  # dropped or cut-off responses
            raise _Retryable(f"connection failed during {path}: {type(error).__name__}: {error}") from None
        try:
            return json.loads(raw)
        except ValueError:
            raise _Rejected(f"malformed response from {path}: invalid JSON ({raw[:80]!r})") from None

    def _with_retries(self, method: str, path: str, body: dict | None = None) -> tuple[Any, int]:
        """(parsed body, attempts made); raises _Rejected with the last reason when every attempt failed."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._call(method, path, body), attempt
            except _Rejected as error:
                error.attempts = attempt
                raise
            except _Retryable as error:
                if attempt > self.config.max_retries:
                    raise _Rejected(f"gave up after {attempt} attempts: {error}", attempt) from None
                time.sleep(retry_delay(attempt, error.retry_after, self.config.backoff_s, self.config.max_backoff_s))

    def load(self) -> None:
        """Ask the endpoint for its model now (when none is configured), so a wrong URL fails at start-up rather
        than as one error result per example."""
        try:
            self.served_model()
        except _Rejected as error:
            raise RuntimeError(f"LLM endpoint {self.url} did not list a model: {error}") from None

    def served_model(self) -> str:
        """The configured model, or the first the endpoint lists (vLLM and our server list exactly one)."""
        if self._model is None:
            listing, _ = self._with_retries("GET", "/models")
            try:
                self._model = str(listing["data"][0]["id"])
            except (KeyError, IndexError, TypeError):
                raise _Rejected(f"malformed response from /models: {str(listing)[:80]}") from None
        return self._model

    def generate(self, requests: Sequence[LLMRequest]) -> list[LLMResult]:
        if not requests:
            return []
        try:
            self.served_model()
        except _Rejected as error:
            return [error_result(request, f"no model: {error}", self.model_id) for request in requests]
        workers = min(self.config.max_concurrency, len(requests))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llm-http") as pool:
            return list(pool.map(self.generate_one, requests))

    def generate_one(self, request: LLMRequest) -> LLMResult:
        problem = request.problem()
        if problem is not None:
            return error_result(request, problem, self.model_id, attempts=0)
        params = request.params
        try:
            model = self.served_model()
        except _Rejected as error:
            return error_result(request, f"no model: {error}", self.model_id)
        body: dict[str, Any] = {
            "model": model,
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        if params.stop:
            body["stop"] = list(params.stop)
        if params.repetition_penalty != 1.0:
            # Not in OpenAI's API, but vLLM, SGLang and our test server read it; others ignore unknown fields.
            body["repetition_penalty"] = params.repetition_penalty
        if request.messages is not None:
            path = "/chat/completions"
            body["messages"] = [{"role": m.role, "content": m.content} for m in request.messages]
        else:
            path, body["prompt"] = "/completions", request.prompt
        structured = params.json_schema is not None and self.response_format_ok
        if structured:
            body["response_format"] = response_format(params.json_schema)
        try:
            response, attempts = self._with_retries("POST", path, body)
        except _Rejected as error:
            if not (structured and refuses_response_format(str(error))):
                return error_result(request, str(error), self.model_id, attempts=error.attempts)
            # This server does not do structured outputs: ask without, once and for every later request.
            log.warning("%s refused response_format (%s); asking without it from now on", self.url, error)
            self.response_format_ok = structured = False
            del body["response_format"]
            try:
                response, attempts = self._with_retries("POST", path, body)
            except _Rejected as error:
                return error_result(request, str(error), self.model_id, attempts=error.attempts + 1)
            attempts += 1
        try:
            result = _parse_completion(response, request, chat=request.messages is not None, attempts=attempts)
        except _Rejected as error:
            return error_result(request, str(error), self.model_id, attempts=attempts)
        result = replace(result, structured=structured)
        result = replace(result, model_id=result.model_id or model)
        return check_result(result, params)


def response_format(json_schema: str) -> dict[str, Any]:
    """OpenAI's structured-output field for a schema (vLLM, SGLang and llama.cpp's server accept it too)."""
    return {"type": "json_schema", "json_schema": {"name": "reply", "schema": json.loads(json_schema), "strict": True}}


def refuses_response_format(reason: str) -> bool:
    """A 4xx that is about the structured-output request itself: unsupported, or a schema the server's grammar
    engine cannot take. Any other rejection is the request's own problem and stays an error."""
    if not re.search(r"\bHTTP (400|404|415|422) ", reason):
        return False
    return bool(re.search(r"response_format|json_schema|schema|grammar|structured|guided", reason, re.IGNORECASE))


def _error_detail(error: urllib.error.HTTPError) -> str:
    """The server's own message when it sent an OpenAI-style error body, else the status text."""
    try:
        body = json.loads(error.read() or b"{}")
        message = body.get("error", {}).get("message") if isinstance(body.get("error"), dict) else body.get("error")
        return str(message or body.get("message") or error.reason)[:300]
    except (ValueError, AttributeError, OSError, http.client.HTTPException):
        return str(error.reason)


def _parse_completion(response: Any, request: LLMRequest, chat: bool, attempts: int) -> LLMResult:
    where = "/chat/completions" if chat else "/completions"
    try:
        choice = response["choices"][0]
        text = choice["message"].get("content") if chat else choice["text"]
    except (KeyError, IndexError, TypeError, AttributeError):
        raise _Rejected(f"malformed response from {where}: no choices[0] text in {str(response)[:120]}") from None
    finish = choice.get("finish_reason") or "stop"
    usage = response.get("usage") or {}
    return LLMResult(
        key=request.key,
        text=text or "",
        finish_reason="length" if finish == "length" else "stop",
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        model_id=str(response.get("model") or ""),
        attempts=attempts,
    )
