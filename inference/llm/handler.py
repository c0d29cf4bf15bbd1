"""LLMModelHandler: any backend inside Beam's RunInference (batching, one model per worker process)."""

from collections.abc import Iterable, Sequence
from typing import Any

from apache_beam.ml.inference.base import ModelHandler

from inference.llm.backend import LLMBackend
from inference.llm.config import LLMConfig
from inference.llm.factory import make_llm
from inference.llm.types import LLMRequest, LLMResult, error_result


class LLMModelHandler(ModelHandler[LLMRequest, LLMResult, LLMBackend]):
    """`pcoll_of_LLMRequest | RunInference(LLMModelHandler(cfg))` -> one LLMResult per request (errors included,
    never raised: route them with `result.error`)."""

    def __init__(self, config: LLMConfig, max_batch_duration_secs: int | None = None) -> None:
        problems = config.validate()
        if problems:
            raise ValueError("invalid LLM config: " + "; ".join(problems))
        self.config = config
        # Remote backends want at least `max_concurrency` requests per batch to keep every connection busy.
        local = config.backend == "transformers"
        max_batch = config.batch_size if local else max(config.batch_size, config.max_concurrency)
        super().__init__(min_batch_size=1, max_batch_size=max_batch, max_batch_duration_secs=max_batch_duration_secs)

    def load_model(self) -> LLMBackend:
        backend = make_llm(self.config)
        load = getattr(backend, "load", None)
        if load is not None:  # weights and servers now, in setup, rather than inside the first bundle
            load()
        return backend

    def run_inference(
        self, batch: Sequence[LLMRequest], model: LLMBackend, inference_args: dict[str, Any] | None = None
    ) -> Iterable[LLMResult]:
        try:
            return model.generate(list(batch))
        except Exception as error:  # backends report per request; this is the last guard for the bundle
            reason = f"backend failed: {type(error).__name__}: {error}"
            return [error_result(request, reason, self.config.model or "") for request in batch]

    def share_model_across_processes(self) -> bool:
        # GPU (transformers on CUDA, vLLM): one copy per machine, served to every worker process through Beam's
        # multi_process_shared; N copies would not fit next to each other in GPU memory. CPU: one copy per process,
        # because a shared copy would serialise every process's batches through one model behind a socket, while
        # each process running its own copy (135M fp32 is ~0.6 GB) scales with cores. Remote (openai): nothing to
        # share. Big models on CPU: serve them once with `python -m inference.llm.serve` and use --llm-backend openai.
        if self.config.backend == "vllm":
            return True
        if self.config.backend == "transformers":
            from inference.llm.transformers_backend import resolve_device

            return resolve_device(self.config.device) == "cuda"
        return False

    def get_metrics_namespace(self) -> str:
        return f"LLM-{self.config.backend}"
