"""The one interface every LLM backend implements."""

from abc import ABC, abstractmethod
from collections.abc import Sequence

from inference.llm.types import LLMRequest, LLMResult


class LLMBackend(ABC):
    """Batched requests in, one result per request out, in order. Backends load lazily (on first generate) and
    never raise for a bad request or a bad response: those come back as results with `error` set."""

    @property
    @abstractmethod
    def model_id(self) -> str:
        """The model's name for provenance (file name, hub name or the endpoint's model name)."""

    @abstractmethod
    def generate(self, requests: Sequence[LLMRequest]) -> list[LLMResult]: ...
