"""make_llm: the backend a config names."""

from inference.llm.backend import LLMBackend
from inference.llm.config import LLMConfig


def make_llm(config: LLMConfig) -> LLMBackend:
    """The backend for `config`, not yet loaded (weights, servers and connections come on first use)."""
    problems = config.validate()
    if problems:
        raise ValueError("invalid LLM config: " + "; ".join(problems))
    if config.backend == "transformers":
        from inference.llm.transformers_backend import TransformersBackend

        return TransformersBackend(config)
    if config.backend == "openai":
        from inference.llm.openai_backend import OpenAIBackend

        return OpenAIBackend(config)
    from inference.llm.vllm_backend import VLLMBackend

    return VLLMBackend(config)
