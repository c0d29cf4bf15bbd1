"""A scripted LLM for unit tests of the Docs stages (the real model runs in tests/pipelines/test_docs.py)."""

from collections.abc import Callable, Sequence

from inference.llm import LLMBackend, LLMRequest, LLMResult

GOOD_DOT = 'digraph G {\n  label="Hive weights";\n  A -> B;\n  B -> C;\n  A [label="Hive A 12 kg"];\n}\n'
BAD_DOT = "digraph G {\n  A -> ;\n"


def scripted_reply(request: LLMRequest) -> str:
    """Replies by what the prompt asks; example keys ending in 'bad' never get working code."""
    last = request.messages[-1].content
    if "Give the title" in last:
        return '"Hive weights in June"'
    if "Invent realistic data" in last:
        return "Here you go:\nHive,Kg\nA,12\nB,9\nC,14\n"
    if "Write questions" in last:
        return (
            "Q: How much does hive A weigh?\nA: 12\n"
            "Q: Which hive is heaviest?\n(A) A (B) B (C) C (D) none\nA: (C) C\n"
            "Q: Is there a hive D?\nA: No\n"
            "Q: Who keeps the bees?\nA: Maria\n"
        )
    if "That did not work" in last and not request.key.endswith("bad"):
        return "```dot\n" + GOOD_DOT + "```"
    return BAD_DOT


class FakeLLM(LLMBackend):
    """`reply` gives the text, or (text, finish_reason): "length" plays a reply cut at the token limit, which
    then counts max_new_tokens tokens."""

    def __init__(self, reply: Callable[[LLMRequest], str | tuple[str, str]] = scripted_reply) -> None:
        self.reply = reply
        self.batches: list[list[LLMRequest]] = []

    @property
    def model_id(self) -> str:
        return "fake-llm"

    def generate(self, requests: Sequence[LLMRequest]) -> list[LLMResult]:
        self.batches.append(list(requests))
        return [self._result(r) for r in requests]

    def _result(self, request: LLMRequest) -> LLMResult:
        reply = self.reply(request)
        text, finish = reply if isinstance(reply, tuple) else (reply, "stop")
        tokens = request.params.max_new_tokens if finish == "length" else len(text.split())
        return LLMResult(
            key=request.key, text=text, finish_reason=finish, completion_tokens=tokens, model_id="fake-llm"
        )
