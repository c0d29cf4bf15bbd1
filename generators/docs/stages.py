"""The Docs stages for a batch of examples: plan -> topic -> data -> code (+ repairs) -> render -> image checks ->
QA -> filters. Each LLM stage sends one batched call for every example still alive, so the backend can batch;
an example that fails a stage stops there with a StageFailure (stage, reason, details)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from generators.docs import prompts
from generators.docs.figures import FIGURE_TYPES, FigureType
from generators.docs.image_checks import check_render
from generators.docs.parsing import (
    ParseError,
    copies_shot_code,
    copies_shot_qa,
    extract_code,
    parse_data,
    parse_qa,
    parse_topic,
)
from generators.docs.personas import load_personas
from generators.docs.qa_filters import QAPair, filter_qa
from generators.docs.randomness import call_seed, stream
from generators.docs.renderers import RENDERERS, Renderer, get_renderer, renderer_class
from inference.llm import ChatMessage, LLMBackend, LLMRequest, LLMResult

log = logging.getLogger(__name__)

STAGES = ("topic", "data", "code", "render", "image_checks", "qa")


# Token budgets sized for what strong instruction-tuned models write: a chatty title line, a table in a fenced
# block with a sentence around it, a full HTML document (1.5-3k tokens) or a booktabs report, ten QA pairs.
STRONG_MODEL_TOKENS = {"topic": 64, "data": 1024, "code": 4096, "qa": 1536}
# The embedded 135M model rarely stops by itself: it runs to the budget, so big budgets only make it slower.
LOCAL_MODEL_TOKENS = {"topic": 40, "data": 256, "code": 512, "qa": 384}


@dataclass(frozen=True)
class DocsSettings:
    renderers: tuple[str, ...] = tuple(RENDERERS)
    repair_attempts: int = 2
    render_timeout_s: float = 20.0
    topic_tokens: int = STRONG_MODEL_TOKENS["topic"]
    data_tokens: int = STRONG_MODEL_TOKENS["data"]
    code_tokens: int = STRONG_MODEL_TOKENS["code"]
    qa_tokens: int = STRONG_MODEL_TOKENS["qa"]
    code_temperature: float = 0.4
    # Ask for the data, QA pairs and Vega-Lite specs as JSON schemas (constrained where the backend can).
    structured: bool = True


@dataclass(frozen=True)
class ExamplePlan:
    """Everything chosen for one example before any model runs, from (seed, index) alone."""

    index: int
    key: str
    persona: str
    renderer: str
    figure: FigureType


class StageFailure(Exception):
    def __init__(self, stage: str, reason: str, **details: Any) -> None:
        super().__init__(f"{stage}: {reason}")
        self.stage = stage
        self.reason = reason
        self.details = details


@dataclass
class DocsExample:
    """One example as it moves through the stages; `failure` is set when it stops."""

    plan: ExamplePlan
    topic: str = ""
    data: str = ""
    code: str = ""
    png: bytes = b""
    messages: tuple[ChatMessage, ...] = ()
    attempts: list[dict[str, Any]] = field(default_factory=list)
    qa: list[QAPair] = field(default_factory=list)
    qa_dropped: list[dict[str, str]] = field(default_factory=list)
    structured: dict[str, bool] = field(default_factory=dict)  # stage -> its reply was schema-constrained
    failure: StageFailure | None = None

    @property
    def alive(self) -> bool:
        return self.failure is None

    def fail(self, stage: str, reason: str, **details: Any) -> None:
        plan = self.plan
        self.failure = StageFailure(
            stage,
            reason,
            renderer=plan.renderer,
            config=plan.figure.config,
            figure_type=plan.figure.name,
            attempts=list(self.attempts),
            **details,
        )


def tokens(result: LLMResult) -> int:
    """How many tokens a cut reply had (0 when the backend does not say)."""
    return result.completion_tokens


def cut_reason(result: LLMResult) -> str:
    where = f"{result.completion_tokens} tokens" if result.completion_tokens else "the token limit"
    return f"reply cut at {where} (the token limit)" if result.completion_tokens else f"reply cut at {where}"


def plan_example(seed: int, index: int, key: str, renderers: Sequence[str]) -> ExamplePlan:
    personas = load_personas()
    renderer = stream(seed, "renderer", index).choice(list(renderers))
    return ExamplePlan(
        index=index,
        key=key,
        persona=stream(seed, "persona", index).choice(personas),
        renderer=renderer,
        figure=stream(seed, "figure", index).choice(FIGURE_TYPES[renderer]),
    )


class RendererPool:
    """Each renderer started once per worker, on first use; closed together at the end."""

    def __init__(self) -> None:
        self._started: dict[str, Renderer] = {}

    def get(self, name: str) -> Renderer:
        if name not in self._started:
            renderer = get_renderer(name)
            renderer.start()
            self._started[name] = renderer
        return self._started[name]

    def close(self) -> None:
        for renderer in self._started.values():
            try:
                renderer.close()
            except Exception:  # noqa: BLE001 - closing must not hide the run's result
                log.exception("closing renderer %s", renderer.name)
        self._started.clear()


class DocsStageRunner:
    def __init__(self, llm: LLMBackend, settings: DocsSettings, seed: int, renderers: RendererPool) -> None:
        self.llm = llm
        self.settings = settings
        self.seed = seed
        self.renderers = renderers

    def run(self, plans: Sequence[ExamplePlan]) -> list[DocsExample]:
        examples = [DocsExample(plan) for plan in plans]
        self.topic_stage(examples)
        self.data_stage(examples)
        self.code_stage(examples)
        self.qa_stage(examples)
        return examples

    def _call(self, requests: list[LLMRequest]) -> list[LLMResult]:
        return self.llm.generate(requests) if requests else []

    def _seed(self, purpose: str, example: DocsExample) -> int:
        return call_seed(self.seed, purpose, example.plan.index)

    def topic_stage(self, examples: list[DocsExample]) -> None:
        alive = [e for e in examples if e.alive]
        requests = [
            prompts.topic_request(
                e.plan.key, e.plan.persona, e.plan.figure.name, self.settings.topic_tokens, self._seed("topic", e)
            )
            for e in alive
        ]
        for example, result in zip(alive, self._call(requests), strict=True):
            if not result.ok:
                example.fail("topic", f"LLM error: {result.error}")
                continue
            text = result.text
            if result.finish_reason == "length":
                # Only the lines that ended before the cut: a title cut mid-word is not a title.
                text = text[: text.rfind("\n") + 1]
                if not text.strip():
                    example.fail("topic", cut_reason(result), reply=result.text[:300])
                    continue
            try:
                example.topic = parse_topic(text, prompts.CSV_SHOT.topic)
            except ParseError as e:
                example.fail("topic", str(e), reply=result.text[:300])

    def data_stage(self, examples: list[DocsExample]) -> None:
        """One call; a reply cut at the token limit gets one more asking for it complete and shorter, and is
        rejected when that is cut too (a cut table silently loses rows)."""
        structured = self.settings.structured
        pending = [e for e in examples if e.alive]
        conversations = {
            e.plan.key: prompts.data_messages(
                e.plan.persona, e.plan.figure.name, e.topic, e.plan.figure.data_format, structured
            )
            for e in pending
        }
        for attempt in range(2):
            requests = [
                prompts.data_request(
                    e.plan.key,
                    conversations[e.plan.key],
                    e.plan.figure.data_format,
                    self.settings.data_tokens,
                    self._seed("data" if attempt == 0 else f"data-{attempt}", e),
                    structured,
                )
                for e in pending
            ]
            retry = []
            for example, result in zip(pending, self._call(requests), strict=True):
                if not result.ok:
                    example.fail("data", f"LLM error: {result.error}")
                    continue
                example.structured["data"] = result.structured
                if result.finish_reason == "length":
                    if attempt == 0:
                        key = example.plan.key
                        conversations[key] = prompts.shorter_messages(conversations[key], result.text, tokens(result))
                        retry.append(example)
                    else:
                        example.fail("data", cut_reason(result), reply=result.text[:300])
                    continue
                try:
                    figure = example.plan.figure
                    shot = prompts.data_shot(figure.name, figure.data_format)
                    example.data = parse_data(result.text, figure.data_format, shot.data)
                except ParseError as e:
                    example.fail("data", str(e), reply=result.text[:300])
            pending = retry
            if not pending:
                return

    def code_stage(self, examples: list[DocsExample]) -> None:
        """First attempt, then up to `repair_attempts` rounds that send the error back to the model."""
        pending = [e for e in examples if e.alive]
        for e in pending:
            instructions = renderer_class(e.plan.renderer).CODE_INSTRUCTIONS
            shot = prompts.CODE_SHOTS.get(e.plan.renderer)
            e.messages = prompts.code_messages(e.plan.persona, e.plan.figure.name, e.topic, e.data, instructions, shot)
        for attempt in range(1 + self.settings.repair_attempts):
            if not pending:
                return
            requests = [
                prompts.code_request(
                    e.plan.key,
                    e.messages,
                    self.settings.code_tokens,
                    self.settings.code_temperature,
                    self._seed(f"code-{attempt}", e),
                    e.plan.renderer,
                    self.settings.structured,
                )
                for e in pending
            ]
            retry = []
            for example, result in zip(pending, self._call(requests), strict=True):
                problem, stage = self.try_code(example, result, attempt)
                if problem is None:
                    continue
                if attempt < self.settings.repair_attempts:
                    example.messages = prompts.repair_messages(example.messages, result.text.strip(), problem)
                    retry.append(example)
                else:
                    example.fail(stage, example.attempts[-1]["error"] if result.finish_reason == "length" else problem)
            pending = retry

    def try_code(self, example: DocsExample, result: LLMResult, attempt: int) -> tuple[str | None, str]:
        """Extract, render and check one attempt; (None, '') when it produced a usable image, else (problem,
        the stage that failed). Every attempt is recorded for the row's provenance and the dead letters."""
        record: dict[str, Any] = {"attempt": attempt}
        example.attempts.append(record)
        if not result.ok:
            record.update(stage="code", error=f"LLM error: {result.error}")
            return record["error"], "code"
        if result.finish_reason == "length":
            # Never render a cut program: a page cut mid-document renders its first heading, and QA written from
            # the whole code would ask about what the picture does not show.
            record.update(stage="code", error=cut_reason(result), reply=result.text[-300:])
            return prompts.cut_problem(tokens(result)), "code"
        if example.plan.renderer in prompts.STRUCTURED_CODE_SCHEMAS:
            example.structured["code"] = result.structured
        try:
            code = extract_code(result.text, example.plan.renderer)
        except ParseError as e:
            record.update(stage="code", error=str(e), reply=result.text[:300])
            return str(e), "code"
        shot = prompts.CODE_SHOTS.get(example.plan.renderer)
        if shot is not None and copies_shot_code(code, shot.code, shot.data, shot.topic):
            # The shown example's code is ours, not the model's: never render it as a row.
            record.update(stage="code", error="code copies the prompt's example", reply=result.text[:300])
            return "code copies the prompt's example: write new code for the data given here", "code"
        try:
            renderer = self.renderers.get(example.plan.renderer)
        except Exception as e:  # noqa: BLE001 - a renderer that cannot start fails its examples, not the shard
            record.update(stage="render", error=f"renderer did not start: {type(e).__name__}: {e}"[:500])
            return record["error"], "render"
        rendered = renderer.render(code, self.settings.render_timeout_s)
        record["render_s"] = round(rendered.seconds, 2)
        if not rendered.ok:
            record.update(stage="render", error=rendered.error[:500])
            return f"the code failed: {rendered.error}", "render"
        problems = check_render(rendered.png, code, example.plan.renderer)
        if problems:
            record.update(stage="image_checks", error="; ".join(problems))
            return f"the code ran but the image is unusable: {'; '.join(problems)}", "image_checks"
        record.update(stage="ok")
        example.code, example.png = code, rendered.png
        return None, ""

    def qa_stage(self, examples: list[DocsExample]) -> None:
        alive = [e for e in examples if e.alive]
        requests = [
            prompts.qa_request(
                e.plan.key,
                e.plan.figure.name,
                e.topic,
                e.data,
                e.code,
                self.settings.qa_tokens,
                self._seed("qa", e),
                self.settings.structured,
            )
            for e in alive
        ]
        for example, result in zip(alive, self._call(requests), strict=True):
            if not result.ok:
                example.fail("qa", f"LLM error: {result.error}")
                continue
            example.structured["qa"] = result.structured
            cut = result.finish_reason == "length"
            parsed = parse_qa(result.text, cut=cut)
            if cut:  # the pair the limit cut through is gone; say so
                example.qa_dropped.append({"question": "", "answer": "", "reason": cut_reason(result)})
            pairs = []
            for question, answer in parsed:
                if copies_shot_qa(question, answer, prompts.QA_SHOT_PAIRS, prompts.CSV_SHOT.data):
                    # Ours, not the model's: the shown example's pair, or one about its data.
                    example.qa_dropped.append(
                        {"question": question[:200], "answer": answer[:200], "reason": "copies the prompt's example"}
                    )
                else:
                    pairs.append((question, answer))
            example.qa, dropped = filter_qa(pairs, example.data, example.code, example.plan.renderer)
            example.qa_dropped += dropped
            if not example.qa:
                reason = "no QA pairs in the reply" if not parsed else "every QA pair was filtered out"
                example.fail("qa", reason, dropped=example.qa_dropped[:10], reply=result.text[:300])
