"""The request and result records every LLM backend speaks: plain, picklable dataclasses."""

import json
from dataclasses import dataclass, field, replace

FINISH_REASONS = ("stop", "length", "error")


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system", "user" or "assistant"
    content: str


@dataclass(frozen=True)
class GenerationParams:
    max_new_tokens: int = 256
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0
    seed: int | None = None  # with a seed, sampling is reproducible (per request, whatever the batch)
    stop: tuple[str, ...] = ()  # the text ends before the first stop string
    # When True a completion cut off by max_new_tokens ("length") counts as an error: callers that parse the
    # output (code, JSON, QA lists) need it whole.
    require_complete: bool = False
    # > 1 makes tokens the reply already holds less likely (CTRL-style; the prompt is not counted, so copying
    # from it stays free). 1.0 = off. Small models otherwise loop on one line.
    repetition_penalty: float = 1.0
    # A JSON schema (as JSON text, so params stay hashable) the reply must follow: response_format on
    # OpenAI-compatible servers, guided decoding on vLLM, a grammar-constrained logits processor locally.
    json_schema: str | None = None

    def __post_init__(self) -> None:
        # Accept one string or a list for convenience; store a tuple so params stay hashable and immutable.
        object.__setattr__(self, "stop", (self.stop,) if isinstance(self.stop, str) else tuple(self.stop))


@dataclass(frozen=True)
class LLMRequest:
    """Either chat `messages` (the model's chat template applies) or a raw `prompt` (plain completion)."""

    messages: tuple[ChatMessage, ...] | None = None
    prompt: str | None = None
    params: GenerationParams = field(default_factory=GenerationParams)
    key: str = ""  # the caller's id (example_id), echoed in the result

    def __post_init__(self) -> None:
        if self.messages is not None:
            object.__setattr__(self, "messages", tuple(self.messages))

    def problem(self) -> str | None:
        """Why this request cannot be sent, or None."""
        if (self.messages is None) == (self.prompt is None):
            return "a request needs exactly one of messages or prompt"
        if self.messages is not None and not self.messages:
            return "messages is empty"
        if self.params.max_new_tokens < 1:
            return f"max_new_tokens must be >= 1, got {self.params.max_new_tokens}"
        if self.params.temperature < 0:
            return f"temperature must be >= 0, got {self.params.temperature}"
        if not 0 < self.params.top_p <= 1:
            return f"top_p must be in (0, 1], got {self.params.top_p}"
        if self.params.repetition_penalty <= 0:
            return f"repetition_penalty must be > 0, got {self.params.repetition_penalty}"
        if self.params.json_schema is not None and not _is_schema(self.params.json_schema):
            return "json_schema must be a JSON object (a JSON schema)"
        return None


def _is_schema(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


@dataclass(frozen=True)
class LLMResult:
    key: str
    text: str
    finish_reason: str  # "stop" | "length" | "error"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_id: str = ""
    error: str | None = None  # None, or a clear reason the text must not be used
    attempts: int = 1
    structured: bool = False  # the reply was decoded under the request's json_schema (not just asked for it)

    @property
    def ok(self) -> bool:
        return self.error is None


def error_result(request: LLMRequest, reason: str, model_id: str = "", attempts: int = 1) -> LLMResult:
    return LLMResult(
        key=request.key, text="", finish_reason="error", model_id=model_id, error=reason, attempts=attempts
    )


def check_result(result: LLMResult, params: GenerationParams) -> LLMResult:
    """The checks every backend applies last: empty output and (when required) truncation become errors."""
    if result.error is not None:
        return result
    if result.finish_reason == "length" and params.require_complete:
        reason = f"truncated: hit max_new_tokens={params.max_new_tokens} before the end of the answer"
        return replace(result, error=reason)
    if not result.text.strip():
        return replace(result, error=f"empty completion (finish_reason={result.finish_reason})")
    return result
