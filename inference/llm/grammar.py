"""JSON-schema constrained decoding for the local transformers backend, with xgrammar (CPU and GPU): before each
token, every logit the schema forbids is set to -inf, so the reply is valid JSON of that schema by construction.

One compiler per tokenizer (it caches compiled schemas); one matcher per request, advanced token by token."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


class SchemaConstraints:
    """Compiles schemas for one tokenizer and hands out a fresh per-request constraint for each."""

    def __init__(self, tokenizer: Any, vocab_size: int, stop_token_ids: list[int]) -> None:
        import xgrammar

        self._xgr = xgrammar
        info = xgrammar.TokenizerInfo.from_huggingface(
            tokenizer, vocab_size=vocab_size, stop_token_ids=sorted(stop_token_ids)
        )
        self._vocab_size = vocab_size
        # One thread: the decode loop already owns the process's torch threads.
        self._compiler = xgrammar.GrammarCompiler(info, max_threads=1)

    def for_schema(self, schema: str) -> RowConstraint:
        # Compact JSON (no free whitespace): a small model left free to add spaces and newlines loops on them.
        compiled = self._compiler.compile_json_schema(schema, any_whitespace=False)
        return RowConstraint(self._xgr, compiled, self._vocab_size)


class RowConstraint:
    """The schema's state for one reply: masks the next token's logits and follows the tokens chosen."""

    def __init__(self, xgr: Any, compiled: Any, vocab_size: int) -> None:
        self._xgr = xgr
        self._matcher = xgr.GrammarMatcher(compiled)
        self._bitmask = xgr.allocate_token_bitmask(1, vocab_size)

    def mask(self, logits: Any) -> Any:
        """A copy of one row's logits (1-D) with every token the schema forbids next at -inf."""
        out = logits.clone().unsqueeze(0)
        self._matcher.fill_next_token_bitmask(self._bitmask)
        self._xgr.apply_token_bitmask_inplace(out, self._bitmask.to(out.device))
        return out.squeeze(0)

    def accept(self, token: int) -> bool:
        """Follow `token`; False when the schema does not allow it (cannot happen after mask())."""
        return bool(self._matcher.accept_token(token))

    @property
    def finished(self) -> bool:
        """The reply is complete JSON of the schema and its stop token was accepted."""
        return bool(self._matcher.is_terminated())


def load_constraints(tokenizer: Any, vocab_size: int, stop_token_ids: list[int]) -> SchemaConstraints | None:
    """The constraint compiler, or None (replies then come unconstrained, marked structured=False) when xgrammar
    is not installed or does not know this tokenizer."""
    try:
        return SchemaConstraints(tokenizer, vocab_size, stop_token_ids)
    except ImportError:
        log.warning("xgrammar is not installed: JSON-schema requests are decoded without constraint")
    except Exception as error:  # noqa: BLE001 - an unusual tokenizer must not stop plain generation
        log.warning("constrained decoding unavailable for this tokenizer: %s: %s", type(error).__name__, error)
    return None
