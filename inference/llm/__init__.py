"""The shared LLM layer: one interface (batched chat or prompt requests in, text out), three backends
(transformers, openai-compatible HTTP, vLLM), a Beam ModelHandler and the CLI flags every subset exposes."""

from inference.llm.backend import LLMBackend
from inference.llm.config import LLMConfig, add_llm_arguments, llm_config_from_args
from inference.llm.factory import make_llm
from inference.llm.handler import LLMModelHandler
from inference.llm.types import ChatMessage, GenerationParams, LLMRequest, LLMResult

__all__ = [
    "ChatMessage",
    "GenerationParams",
    "LLMBackend",
    "LLMConfig",
    "LLMModelHandler",
    "LLMRequest",
    "LLMResult",
    "add_llm_arguments",
    "llm_config_from_args",
    "make_llm",
]
