"""The stage runner with a scripted LLM and the real Graphviz renderer: batching per stage, repair with the
error sent back, attempt records, failures with their stage, and (seed, index) determinism of the plan."""

import pytest

from generators.docs.figures import FIGURE_TYPES
from generators.docs.personas import load_personas
from generators.docs.renderers import RENDERERS
from generators.docs.stages import DocsSettings, DocsStageRunner, RendererPool, plan_example
from tests.generators.docs.fake_llm import FakeLLM


@pytest.fixture(scope="module")
def pool():
    pool = RendererPool()
    yield pool
    pool.close()


def test_plan_depends_on_seed_and_index_only():
    a = plan_example(7, 3, "k", tuple(RENDERERS))
    assert a == plan_example(7, 3, "k", tuple(RENDERERS))
    plans = {plan_example(7, i, "k", tuple(RENDERERS)) for i in range(60)}
    assert len({p.renderer for p in plans}) == len(RENDERERS)
    assert len({p.persona for p in plans}) > 40
    assert all(p.figure in FIGURE_TYPES[p.renderer] for p in plans)


def test_personas_and_figure_types_are_varied():
    personas = load_personas()
    assert len(personas) >= 300 and len(set(personas)) == len(personas)
    assert set(FIGURE_TYPES) == set(RENDERERS)
    assert {f.config for figs in FIGURE_TYPES.values() for f in figs} == {"charts", "tables", "diagrams", "other"}


def test_repair_then_qa_filters_and_a_dead_letter_at_render(pool):
    llm = FakeLLM()
    settings = DocsSettings(renderers=("graphviz",), repair_attempts=2)
    plans = [plan_example(0, 0, "ex-good", ("graphviz",)), plan_example(0, 1, "ex-bad", ("graphviz",))]
    good, bad = DocsStageRunner(llm, settings, 0, pool).run(plans)

    assert good.failure is None and good.png.startswith(b"\x89PNG")
    assert good.topic == "Hive weights in June" and good.data == "Hive,Kg\nA,12\nB,9\nC,14\n"
    assert [a["stage"] for a in good.attempts] == ["render", "ok"]  # fixed on the first repair
    assert [(p.answer, p.kind) for p in good.qa] == [("12", "short"), ("(C) C", "multiple_choice"), ("No", "yes_no")]
    assert good.qa_dropped[0]["reason"] == "short answer not found in the data or code"

    assert bad.failure is not None and bad.failure.stage == "render"
    assert len(bad.failure.details["attempts"]) == 3 and bad.failure.details["renderer"] == "graphviz"
    # One batched call per stage: topic, data, 2 code rounds for both, a last one for the bad one, QA.
    assert [len(b) for b in llm.batches] == [2, 2, 2, 2, 1, 1]
    repair = llm.batches[3][0].messages
    assert repair[-2].role == "assistant" and "That did not work" in repair[-1].content
    assert llm.batches[0][0].params.seed != llm.batches[0][1].params.seed


def test_no_repairs_and_unparseable_data_stop_at_their_stage(pool):
    def reply(request):
        return "no table at all" if "Invent" in request.messages[-1].content else "Bird counts"

    llm = FakeLLM(reply)
    (example,) = DocsStageRunner(llm, DocsSettings(renderers=("graphviz",), repair_attempts=0), 0, pool).run(
        [plan_example(0, 5, "ex", ("graphviz",))]
    )
    assert example.failure.stage == "data" and "no table" in example.failure.reason
    assert len(llm.batches) == 2  # nothing sent after the data stage


def test_worked_examples_are_shown_and_replies_that_copy_them_are_rejected(pool):
    from generators.docs import prompts

    def reply(request):
        last = request.messages[-1].content
        if "Invent" in last:  # the model answers with the example's rows for one key
            return prompts.CSV_LINKS_SHOT.data if request.key == "copy-data" else "Step,Next\nWake,Wash\nWash,Eat\n"
        if "Make a" in last or "That did not work" in last:
            return prompts.CODE_SHOTS["graphviz"].code  # the example's code, every time
        return "Morning routine"

    llm = FakeLLM(reply)
    settings = DocsSettings(renderers=("graphviz",), repair_attempts=1)
    plans = [plan_example(0, 2, "copy-data", ("graphviz",)), plan_example(0, 3, "copy-code", ("graphviz",))]
    copy_data, copy_code = DocsStageRunner(llm, settings, 0, pool).run(plans)

    data_request = llm.batches[1][0].messages
    assert [m.role for m in data_request] == ["user", "assistant", "user"]
    assert data_request[1].content == prompts.data_shot(plans[0].figure.name, "csv").data.strip()
    code_request = llm.batches[2][0].messages
    assert [m.role for m in code_request] == ["user", "assistant", "user"]
    assert code_request[1].content == prompts.CODE_SHOTS["graphviz"].code.strip()
    assert "Wake,Wash" in code_request[2].content

    assert copy_data.failure.stage == "data" and copy_data.failure.reason == "data copies the prompt's example"
    assert copy_code.failure.stage == "code" and copy_code.failure.reason.startswith("code copies the prompt's example")
    assert [a["error"] for a in copy_code.failure.details["attempts"]] == ["code copies the prompt's example"] * 2
    assert copy_code.png == b""  # the example's code is never rendered


def test_qa_pairs_copied_from_the_shown_example_are_dropped_with_their_reason(pool):
    from generators.docs import prompts
    from tests.generators.docs.fake_llm import scripted_reply

    def reply(request):
        text = scripted_reply(request)
        if "Write questions" in request.messages[-1].content:
            assert [m.role for m in request.messages] == ["user", "assistant", "user"]
            question, answer = prompts.QA_SHOT_PAIRS[-1]
            text += f"Q: {question}\nA: {answer}\nQ: How many grey herons are there?\nA: 12\n"
        return text

    settings = DocsSettings(renderers=("graphviz",), repair_attempts=1)
    (example,) = DocsStageRunner(FakeLLM(reply), settings, 0, pool).run([plan_example(0, 0, "ex", ("graphviz",))])
    assert example.failure is None and [p.answer for p in example.qa] == ["12", "(C) C", "No"]
    copied = [d["question"] for d in example.qa_dropped if d["reason"] == "copies the prompt's example"]
    assert copied == [prompts.QA_SHOT_PAIRS[-1][0], "How many grey herons are there?"]
