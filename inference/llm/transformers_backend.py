"""Local generation with transformers (CPU or GPU): left-padded batches, one decode loop, a seeded sampler per
request so a seeded request gives the same text whatever batch it lands in, and a JSON-schema constraint per
request that asks for one (grammar.py)."""

import contextlib
import functools
import inspect
import logging
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from inference.llm.backend import LLMBackend
from inference.llm.config import LLMConfig
from inference.llm.grammar import load_constraints
from inference.llm.models import load_weights, model_id_for
from inference.llm.types import GenerationParams, LLMRequest, LLMResult, check_result, error_result

log = logging.getLogger(__name__)


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def resolve_dtype(dtype: str, device: str) -> Any:
    import torch

    if dtype == "auto":
        if device == "cpu":
            return torch.float32  # CPU half precision is slow or unsupported for many ops
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return getattr(torch, dtype)


_NOT_LOADED = object()
_LOAD_LOCK = threading.Lock()  # Beam may call load_model from several threads of one worker


@functools.lru_cache(maxsize=2)
def _shared_weights(spec: str | None, device: str, dtype: str) -> tuple[Any, Any]:
    # One copy per process: every backend (and Beam's per-process model) built from the same spec shares it.
    # Generation only reads the weights, so sharing across threads is safe.
    return load_weights(spec, device, resolve_dtype(dtype, device))


class TransformersBackend(LLMBackend):
    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self._tokenizer: Any = None
        self._model: Any = None
        self._constraints: Any = _NOT_LOADED  # built on the first request with a json_schema

    @property
    def model_id(self) -> str:
        return model_id_for(self.config.model)

    @property
    def device(self) -> str:
        return resolve_device(self.config.device)

    def load(self) -> None:
        if self._model is None:
            with _LOAD_LOCK:
                self._tokenizer, self._model = _shared_weights(self.config.model, self.device, self.config.dtype)
            generation = getattr(self._model, "generation_config", None)
            eos = getattr(generation, "eos_token_id", None)
            eos = [] if eos is None else [eos] if isinstance(eos, int) else list(eos)
            if self._tokenizer.eos_token_id is not None:
                eos.append(self._tokenizer.eos_token_id)
            self._eos = set(eos)
            pad = self._tokenizer.pad_token_id
            self._pad = pad if pad is not None else (eos[0] if eos else 0)
            self._context = getattr(self._model.config, "max_position_embeddings", None)
            # transformers 5 names the KV cache argument `cache` (and warns on every call about the old name).
            forward = inspect.signature(self._model.forward).parameters
            self._cache_arg = "cache" if "cache" in forward else "past_key_values"

    def prompt_ids(self, request: LLMRequest) -> list[int]:
        tokenizer = self._tokenizer
        if request.prompt is not None:
            return tokenizer(request.prompt)["input_ids"]
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        if tokenizer.chat_template:
            text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        else:  # base models without a template: a plain transcript the model can continue
            text = "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant:"
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    def generate(self, requests: Sequence[LLMRequest]) -> list[LLMResult]:
        self.load()
        with _torch_threads(self.config.cpu_threads if self.device == "cpu" else 0):
            return self._generate(requests)

    def _generate(self, requests: Sequence[LLMRequest]) -> list[LLMResult]:
        results: list[LLMResult | None] = [None] * len(requests)
        pending = []  # (index, request, prompt ids)
        for index, request in enumerate(requests):
            problem = request.problem()
            if problem is None:
                try:
                    ids = self.prompt_ids(request)
                except Exception as error:  # e.g. a chat template that refuses a role order
                    ids, problem = [], f"cannot build the prompt: {type(error).__name__}: {error}"
                if problem is None and self._context and len(ids) + request.params.max_new_tokens > self._context:
                    problem = (
                        f"prompt too long: {len(ids)} tokens + max_new_tokens {request.params.max_new_tokens} "
                        f"> context {self._context}"
                    )
            if problem is not None:
                results[index] = error_result(request, problem, self.model_id)
            else:
                pending.append((index, request, ids))
        # Similar lengths together: less padding. The results go back in request order.
        pending.sort(key=lambda item: len(item[2]))
        size = self.config.batch_size
        for start in range(0, len(pending), size):
            chunk = pending[start : start + size]
            try:
                outputs = self._generate_batch([(request, ids) for _, request, ids in chunk])
            except Exception as error:  # e.g. out of memory: this chunk fails, the bundle goes on
                log.exception("generation failed for a batch of %d", len(chunk))
                outputs = [
                    error_result(request, f"generation failed: {type(error).__name__}: {error}", self.model_id)
                    for _, request, _ in chunk
                ]
            for (index, _, _), output in zip(chunk, outputs, strict=True):
                results[index] = output
        return results  # type: ignore[return-value]

    def _generate_batch(self, batch: list[tuple[LLMRequest, list[int]]]) -> list[LLMResult]:
        import torch

        device, count = self.device, len(batch)
        width = max(len(ids) for _, ids in batch)
        input_ids = torch.full((count, width), self._pad, dtype=torch.long)
        attention = torch.zeros((count, width), dtype=torch.long)
        for row, (_, ids) in enumerate(batch):  # left padding: every row's next token is at the last position
            input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            attention[row, width - len(ids) :] = 1
        positions = (attention.cumsum(-1) - 1).clamp(min=0)  # real tokens count from 0 whatever the padding
        input_ids, attention, positions = input_ids.to(device), attention.to(device), positions.to(device)
        samplers = [_sampler(request.params, device) for request, _ in batch]
        constraints = [self._constraint(request.params) for request, _ in batch]
        generated: list[list[int]] = [[] for _ in batch]
        finish: list[str | None] = [None] * count
        texts = [""] * count
        cache = None
        with torch.inference_mode():
            for _ in range(max(request.params.max_new_tokens for request, _ in batch)):
                out = self._model(
                    input_ids=input_ids,
                    attention_mask=attention,
                    position_ids=positions,
                    use_cache=True,
                    **{self._cache_arg: cache},
                )
                cache = getattr(out, self._cache_arg)
                logits = out.logits[:, -1, :].float()
                greedy = logits.argmax(-1).tolist()
                next_ids = []
                for row, (request, _) in enumerate(batch):
                    if finish[row] is not None:
                        next_ids.append(self._pad)  # finished rows ride along until the batch ends
                        continue
                    params = request.params
                    constraint = constraints[row]
                    penalised = params.repetition_penalty != 1.0 and bool(generated[row])
                    row_logits = logits[row] if constraint is None else constraint.mask(logits[row])
                    if penalised:
                        row_logits = penalise_repeats(row_logits, generated[row], params.repetition_penalty)
                    if samplers[row] is not None:
                        token = _sample(row_logits, params, samplers[row])
                    else:
                        token = int(row_logits.argmax()) if penalised or constraint else greedy[row]
                    next_ids.append(token)
                    if constraint is not None:
                        constraint.accept(token)
                    finish[row], texts[row] = self._advance(generated[row], token, request.params)
                    if constraint is not None and finish[row] is None and constraint.finished:
                        finish[row], texts[row] = "stop", self._decode(generated[row])
                if all(reason is not None for reason in finish):
                    break
                input_ids = torch.tensor(next_ids, dtype=torch.long, device=device).unsqueeze(1)
                attention = torch.cat([attention, attention.new_ones((count, 1))], dim=1)
                positions = positions[:, -1:] + 1
        return [
            check_result(
                LLMResult(
                    key=request.key,
                    text=texts[row],
                    finish_reason=finish[row] or "length",
                    prompt_tokens=len(ids),
                    completion_tokens=len(generated[row]),
                    model_id=self.model_id,
                    structured=constraints[row] is not None,
                ),
                request.params,
            )
            for row, (request, ids) in enumerate(batch)
        ]

    def _constraint(self, params: GenerationParams) -> Any:
        """The request's schema constraint (None without a schema, or when constraints are unavailable)."""
        if params.json_schema is None:
            return None
        if self._constraints is _NOT_LOADED:
            vocab = int(getattr(self._model.config, "vocab_size", 0) or len(self._tokenizer))
            self._constraints = load_constraints(self._tokenizer, vocab, sorted(self._eos))
        return None if self._constraints is None else self._constraints.for_schema(params.json_schema)

    def _advance(self, tokens: list[int], token: int, params: GenerationParams) -> tuple[str | None, str]:
        """Append `token`; return (finish reason or None, text so far without the stop string)."""
        if token in self._eos:
            return "stop", self._decode(tokens)
        tokens.append(token)
        text = self._decode(tokens) if params.stop or len(tokens) >= params.max_new_tokens else ""
        cut = min((i for i in (text.find(stop) for stop in params.stop) if i >= 0), default=-1)
        if cut >= 0:
            return "stop", text[:cut]
        if len(tokens) >= params.max_new_tokens:
            return "length", text
        return None, text

    def _decode(self, tokens: list[int]) -> str:
        return self._tokenizer.decode(tokens, skip_special_tokens=True)


@contextlib.contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    """Use `count` torch threads inside the block (0: leave them alone); the process setting comes back after."""
    import torch

    if count <= 0:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _sampler(params: GenerationParams, device: str) -> Any:
    """A generator of its own per sampling request (None for greedy), seeded from the request's seed."""
    import torch

    if params.temperature == 0:
        return None
    generator = torch.Generator(device=device)
    if params.seed is None:
        generator.seed()  # no seed asked for: fresh randomness
    else:
        generator.manual_seed(params.seed)
    return generator


def penalise_repeats(logits: Any, tokens: list[int], penalty: float) -> Any:
    """A copy of `logits` where each token already generated is `penalty` times less likely (positive logits
    divided, negative ones multiplied, as in CTRL and transformers)."""
    import torch

    out = logits.clone()
    ids = torch.tensor(sorted(set(tokens)), dtype=torch.long, device=logits.device)
    seen = out[ids]
    out[ids] = torch.where(seen > 0, seen / penalty, seen * penalty)
    return out


def _sample(logits: Any, params: GenerationParams, generator: Any) -> int:
    import torch

    probs = torch.softmax(logits / params.temperature, dim=-1)
    if params.top_p < 1.0:  # nucleus: keep the smallest set of tokens whose mass reaches top_p
        sorted_probs, order = probs.sort(descending=True)
        sorted_probs[(sorted_probs.cumsum(-1) - sorted_probs) >= params.top_p] = 0.0
        return int(order[torch.multinomial(sorted_probs, 1, generator=generator)])
    return int(torch.multinomial(probs, 1, generator=generator))
