"""Requests for one caption's conversation, and the conversation built from the model's replies."""

from dataclasses import dataclass, field

from annotation.capqa.parsing import MalformedQA, parse_qa
from annotation.capqa.prompts import FOCUSES, SYSTEM, USER
from annotation.capqa.support import normalised, qa_problem
from inference.llm.types import ChatMessage, GenerationParams, LLMRequest, LLMResult


@dataclass(frozen=True)
class QASettings:
    turns: int = 4  # question-answer pairs asked for per caption (each a different focus)
    max_new_tokens: int = 64
    temperature: float = 0.0
    min_turns: int = 1  # a conversation with fewer kept pairs is a dead letter

    def validate(self) -> list[str]:
        problems = []
        if not 1 <= self.turns <= len(FOCUSES):
            problems.append(f"--turns must be in 1..{len(FOCUSES)}")
        if not 1 <= self.min_turns <= self.turns:
            problems.append("--min-turns must be in 1..--turns")
        if self.max_new_tokens < 16:
            problems.append("--qa-tokens must be at least 16")
        if self.temperature < 0:
            problems.append("--qa-temperature must be >= 0")
        return problems


@dataclass
class Conversation:
    messages: list[str] = field(default_factory=list)  # alternating user/assistant, as pixmo-cap-qa
    focuses: list[str] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)  # {focus, reason, text} per dropped pair


def qa_requests(key: str, caption: str, settings: QASettings, seed: int) -> list[LLMRequest]:
    """One request per focus; keys are KEY#TURN so replies can be put back in order."""
    params = GenerationParams(max_new_tokens=settings.max_new_tokens, temperature=settings.temperature, seed=seed)
    return [
        LLMRequest(
            messages=(ChatMessage("system", SYSTEM), ChatMessage("user", USER.format(caption=caption, focus=focus))),
            params=params,
            key=f"{key}#{turn}",
        )
        for turn, focus in enumerate(FOCUSES[: settings.turns])
    ]


def build_conversation(caption: str, results: list[LLMResult]) -> Conversation:
    """Kept pairs in focus order; every dropped pair is recorded with its reason."""
    conversation = Conversation()
    seen: set[str] = set()
    for result in sorted(results, key=lambda r: int(r.key.rsplit("#", 1)[1])):
        focus = FOCUSES[int(result.key.rsplit("#", 1)[1])]
        if not result.ok:
            conversation.rejected.append({"focus": focus, "reason": f"llm: {result.error}", "text": result.text})
            continue
        try:
            question, answer = parse_qa(result.text)
        except MalformedQA as exc:
            conversation.rejected.append({"focus": focus, "reason": f"malformed: {exc}", "text": result.text})
            continue
        problem = qa_problem(question, answer, caption, seen)
        if problem:
            conversation.rejected.append({"focus": focus, "reason": problem, "text": result.text})
            continue
        seen.add(normalised(question))
        conversation.messages += [question, answer]
        conversation.focuses.append(focus)
    return conversation
