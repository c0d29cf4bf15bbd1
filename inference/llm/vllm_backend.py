"""vLLM on GPU workers through Beam's own vLLM handlers, which start a vLLM OpenAI-compatible server per worker
machine. Beam's module needs `openai` (and the worker needs `vllm`), so nothing is imported until load()."""

import json
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from inference.llm.backend import LLMBackend
from inference.llm.config import LLMConfig
from inference.llm.openai_backend import response_format
from inference.llm.types import GenerationParams, LLMRequest, LLMResult, check_result, error_result

log = logging.getLogger(__name__)


def inference_args(params: GenerationParams, chat: bool = True) -> dict[str, Any]:
    """OpenAI request fields for one group of requests (Beam's handler sends the same args with each). A JSON
    schema becomes vLLM's guided decoding: response_format on chat, structured_outputs on completions (the
    OpenAI client has no response_format for completions, so it travels in extra_body)."""
    args: dict[str, Any] = {
        "max_tokens": params.max_new_tokens,
        "temperature": params.temperature,
        "top_p": params.top_p,
    }
    if params.seed is not None:
        args["seed"] = params.seed
    if params.stop:
        args["stop"] = list(params.stop)
    if params.json_schema is not None:
        if chat:
            args["response_format"] = response_format(params.json_schema)
        else:
            args["extra_body"] = {"structured_outputs": {"json": json.loads(params.json_schema)}}
    return args


def to_result(request: LLMRequest, response: Any, chat: bool, model_id: str) -> LLMResult:
    """An OpenAI client ChatCompletion / Completion (Beam's PredictionResult.inference) as an LLMResult."""
    choices = getattr(response, "choices", None)
    if not choices:
        return error_result(request, "malformed response from vLLM: no choices", model_id)
    choice = choices[0]
    text = (choice.message.content if chat else choice.text) or ""
    usage = getattr(response, "usage", None)
    result = LLMResult(
        key=request.key,
        text=text,
        finish_reason="length" if choice.finish_reason == "length" else "stop",
        prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
        model_id=getattr(response, "model", None) or model_id,
        structured=request.params.json_schema is not None,
    )
    return check_result(result, request.params)


class VLLMBackend(LLMBackend):
    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self._chat_handler: Any = None
        self._completions_handler: Any = None
        self._server: Any = None

    @property
    def model_id(self) -> str:
        return self.config.model or "?"

    def load(self) -> None:
        if self._server is not None:
            return
        from apache_beam.ml.inference.vllm_inference import VLLMChatModelHandler, VLLMCompletionsModelHandler

        server_kwargs = dict(self.config.vllm_server_kwargs)
        if self.config.dtype != "auto":
            server_kwargs.setdefault("dtype", self.config.dtype)
        self._chat_handler = VLLMChatModelHandler(self.config.model, vllm_server_kwargs=server_kwargs)
        self._completions_handler = VLLMCompletionsModelHandler(self.config.model, vllm_server_kwargs=server_kwargs)
        # Both handlers talk to one server; starting it once (through the chat handler) keeps one model in GPU
        # memory. The completions handler only needs the server's port.
        self._server = self._chat_handler.load_model()

    def generate(self, requests: Sequence[LLMRequest]) -> list[LLMResult]:
        self.load()
        results: list[LLMResult | None] = [None] * len(requests)
        groups: dict[tuple[bool, GenerationParams], list[int]] = {}
        for index, request in enumerate(requests):
            problem = request.problem()
            if problem is not None:
                results[index] = error_result(request, problem, self.model_id)
            else:
                groups.setdefault((request.messages is not None, request.params), []).append(index)
        # Requests with different params (e.g. a seed each) are separate groups; run them side by side so the
        # server still sees a full batch.
        with ThreadPoolExecutor(max_workers=min(self.config.max_concurrency, max(len(groups), 1))) as pool:
            futures = {
                key: pool.submit(self._run_group, [requests[i] for i in indices], key[0], key[1])
                for key, indices in groups.items()
            }
            for key, indices in groups.items():
                for index, result in zip(indices, futures[key].result(), strict=True):
                    results[index] = result
        return results  # type: ignore[return-value]

    def _run_group(self, group: list[LLMRequest], chat: bool, params: GenerationParams) -> list[LLMResult]:
        from apache_beam.ml.inference.vllm_inference import OpenAIChatMessage

        try:
            if chat:
                batch = [[OpenAIChatMessage(m.role, m.content) for m in r.messages] for r in group]
                predictions = self._chat_handler.run_inference(batch, self._server, inference_args(params, chat))
            else:
                batch = [r.prompt for r in group]
                predictions = self._completions_handler.run_inference(batch, self._server, inference_args(params, chat))
            return [
                to_result(request, prediction.inference, chat, self.model_id)
                for request, prediction in zip(group, predictions, strict=True)
            ]
        except Exception as error:  # Beam's handler raises for any failed request; fail this group only
            log.warning("vLLM request group failed: %s", error)
            return [
                error_result(r, f"vLLM request failed: {type(error).__name__}: {error}", self.model_id) for r in group
            ]
