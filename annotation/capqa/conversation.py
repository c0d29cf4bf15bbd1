"""One caption's conversation in two rounds of LLM calls, as pure functions the pipeline calls between them:

ask_requests -> (LLM) -> read_question per turn -> answer_request for kept questions -> (LLM)
  -> build_conversation: kept pairs in focus order, every dropped pair recorded with its check and reason.
"""

from dataclasses import dataclass, field
from typing import Any

from annotation.capqa.parsing import MalformedQA, parse_answer, parse_question
from annotation.capqa.prompts import ANSWER, ANSWER_SYSTEM, ASK, ASK_SYSTEM, FOCUSES
from annotation.capqa.support import answer_problem, question_problem
from annotation.capqa.words import normalised
from inference.llm.types import ChatMessage, GenerationParams, LLMRequest, LLMResult


@dataclass(frozen=True)
class QASettings:
    turns: int = 4  # question-answer pairs asked for per caption (each about a different focus)
    question_tokens: int = 32
    answer_tokens: int = 48
    temperature: float = 0.0
    min_turns: int = 1  # a conversation with fewer kept pairs is a dead letter

    def validate(self) -> list[str]:
        problems = []
        if not 1 <= self.turns <= len(FOCUSES):
            problems.append(f"--turns must be in 1..{len(FOCUSES)}")
        if not 1 <= self.min_turns <= self.turns:
            problems.append("--min-turns must be in 1..--turns")
        if self.question_tokens < 8 or self.answer_tokens < 8:
            problems.append("--question-tokens and --answer-tokens must be at least 8")
        if self.temperature < 0:
            problems.append("--qa-temperature must be >= 0")
        return problems


@dataclass(frozen=True)
class Asked:
    """One turn after the ask round: its question, or why it was dropped."""

    turn: int
    question: str = ""
    dropped: dict[str, str] | None = None  # {stage, check, reason, text} when the turn goes no further


@dataclass
class Conversation:
    messages: list[str] = field(default_factory=list)  # alternating user/assistant, as pixmo-cap-qa
    focuses: list[str] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)  # {turn, focus, stage, check, reason, text}


def turn_of(result: LLMResult) -> int:
    """Requests are keyed EXAMPLE#TURN so replies can be put back in order."""
    return int(result.key.rsplit("#", 1)[1])


def _params(settings: QASettings, tokens: int, seed: int) -> GenerationParams:
    return GenerationParams(max_new_tokens=tokens, temperature=settings.temperature, seed=seed)


def ask_requests(key: str, caption: str, settings: QASettings, seed: int) -> list[LLMRequest]:
    """Round one: one question per focus."""
    params = _params(settings, settings.question_tokens, seed)
    return [
        LLMRequest(
            messages=(ChatMessage("system", ASK_SYSTEM), ChatMessage("user", ASK.format(caption=caption, focus=focus))),
            params=params,
            key=f"{key}#{turn}",
        )
        for turn, focus in enumerate(FOCUSES[: settings.turns])
    ]


def _drop(stage: str, check: str, reason: str, text: str) -> dict[str, str]:
    return {"stage": stage, "check": check, "reason": reason, "text": text}


def read_question(caption: str, result: LLMResult) -> Asked:
    """A round-one reply -> the question to answer, or the reason the turn stops here."""
    turn = turn_of(result)
    if not result.ok:
        return Asked(turn, dropped=_drop("question", "llm error", f"llm: {result.error}", result.text))
    try:
        question = parse_question(result.text)
    except MalformedQA as exc:
        return Asked(turn, dropped=_drop("question", "malformed question", str(exc), result.text))
    problem = question_problem(question, caption)
    if problem:
        return Asked(turn, question, dropped=_drop("question", problem.check, problem.reason, result.text))
    return Asked(turn, question)


def answer_request(key: str, caption: str, asked: Asked, settings: QASettings, seed: int) -> LLMRequest:
    """Round two: the caption and one kept question."""
    prompt = ANSWER.format(caption=caption, question=asked.question)
    return LLMRequest(
        messages=(ChatMessage("system", ANSWER_SYSTEM), ChatMessage("user", prompt)),
        params=_params(settings, settings.answer_tokens, seed),
        key=f"{key}#{asked.turn}",
    )


def build_conversation(caption: str, asked: list[Asked], answers: list[LLMResult]) -> Conversation:
    """Kept pairs in focus order. Duplicate questions are dropped here (the first one asked is kept), before
    their answers are read, so a repeated question never hides a later good pair's answer check."""
    by_turn = {turn_of(result): result for result in answers}
    conversation = Conversation()
    seen_questions: set[str] = set()
    seen_answers: set[str] = set()
    for item in sorted(asked, key=lambda a: a.turn):
        drop, answer = item.dropped, ""
        if not drop:
            drop, answer = _judge_pair(caption, item, by_turn.get(item.turn), seen_questions, seen_answers)
        if drop:
            conversation.dropped.append({"turn": item.turn, "focus": FOCUSES[item.turn], **drop})
            continue
        seen_questions.add(normalised(item.question))
        seen_answers.add(normalised(answer))
        conversation.messages += [item.question, answer]
        conversation.focuses.append(FOCUSES[item.turn])
    return conversation


def _judge_pair(
    caption: str, item: Asked, result: LLMResult | None, seen_questions: set[str], seen_answers: set[str]
) -> tuple[dict[str, str] | None, str]:
    """(why the pair is dropped or None, the parsed answer)."""
    if normalised(item.question) in seen_questions:
        return _drop("question", "duplicate question", "the same question was already asked", item.question), ""
    if result is None:
        return _drop("answer", "llm error", "no answer came back", ""), ""
    if not result.ok:
        return _drop("answer", "llm error", f"llm: {result.error}", result.text), ""
    try:
        answer = parse_answer(result.text, truncated=result.finish_reason == "length")
    except MalformedQA as exc:
        return _drop("answer", "malformed answer", str(exc), result.text), ""
    problem = answer_problem(item.question, answer, caption, seen_answers)
    return (_drop("answer", problem.check, problem.reason, result.text) if problem else None), answer
