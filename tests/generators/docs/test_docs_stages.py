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
    assert good.qa_dropped[0]["reason"] == "'Maria' is not in the data"

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
    assert data_request[1].content == prompts.table_json(prompts.data_shot(plans[0].figure.name, "csv").data)
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


def test_a_cut_program_is_never_rendered_and_gets_a_round_to_write_it_shorter(pool):
    """Problem 2: with a small code budget every HTML page was cut mid-document, rendered showing a heading and
    kept with QA about what the picture did not show."""
    from tests.generators.docs.fake_llm import GOOD_DOT, scripted_reply

    def reply(request):
        last = request.messages[-1].content
        if "cut off at the" in last:
            return GOOD_DOT  # asked for it complete and shorter: it fits now
        if "Make a" in last:
            return GOOD_DOT[:30], "length"  # cut mid-program
        return scripted_reply(request)

    llm = FakeLLM(reply)
    settings = DocsSettings(renderers=("graphviz",), repair_attempts=1, code_tokens=64)
    (example,) = DocsStageRunner(llm, settings, 0, pool).run([plan_example(0, 0, "ex", ("graphviz",))])
    assert example.failure is None and example.code == GOOD_DOT
    first, second = example.attempts
    assert first == {"attempt": 0, "stage": "code", "error": "reply cut at 64 tokens (the token limit)",
                     "reply": GOOD_DOT[:30]}  # fmt: skip
    assert "render_s" not in first and second["stage"] == "ok"
    repair = llm.batches[3][0].messages[-1].content
    assert "cut off at the 64-token limit" in repair and "shorter" in repair


def test_a_program_cut_every_time_is_rejected_as_cut(pool):
    from tests.generators.docs.fake_llm import scripted_reply

    def reply(request):
        last = request.messages[-1].content
        return ("digraph G {\n a -> b", "length") if "Make a" in last or "cut off" in last else scripted_reply(request)

    settings = DocsSettings(renderers=("graphviz",), repair_attempts=1, code_tokens=50)
    (example,) = DocsStageRunner(FakeLLM(reply), settings, 0, pool).run([plan_example(0, 0, "ex", ("graphviz",))])
    assert example.failure.stage == "code" and example.failure.reason == "reply cut at 50 tokens (the token limit)"


def test_cut_data_is_asked_again_shorter_and_cut_qa_loses_only_its_partial_pair(pool):
    from tests.generators.docs.fake_llm import scripted_reply

    def reply(request):
        last = request.messages[-1].content
        if "Invent realistic data" in last:
            return "Hive,Kg\nA,12\nB,9\nC,1", "length"  # the last row lost digits
        if "cut off at the" in last:
            return "Hive,Kg\nA,12\nB,9\nC,14\n"
        if "Write questions" in last:
            return scripted_reply(request) + "Q: How much does hive B weigh?\nA: 9", "length"
        return scripted_reply(request)

    llm = FakeLLM(reply)
    settings = DocsSettings(renderers=("graphviz",), repair_attempts=1)
    (example,) = DocsStageRunner(llm, settings, 0, pool).run([plan_example(0, 0, "ex-ok", ("graphviz",))])
    assert example.data == "Hive,Kg\nA,12\nB,9\nC,14\n"
    assert [len(b) for b in llm.batches[:3]] == [1, 1, 1]  # topic, data, data again (shorter)
    # "9" might have been "95": the pair the limit went through is dropped, and says so.
    assert "9" not in [p.answer for p in example.qa]
    assert "reply cut at" in example.qa_dropped[0]["reason"]

    def always_cut(request):
        if "Invent realistic data" in request.messages[-1].content or "cut off" in request.messages[-1].content:
            return "Hive,Kg\nA,12\nB,", "length"
        return scripted_reply(request)

    (cut,) = DocsStageRunner(FakeLLM(always_cut), settings, 0, pool).run([plan_example(0, 0, "ex", ("graphviz",))])
    assert cut.failure.stage == "data" and cut.failure.reason.startswith("reply cut at")


@pytest.mark.parametrize(
    ("reply", "topic"),
    [
        ("Sure! Here's a title: \"The Lindqvist family tree", "The Lindqvist family tree"),
        ("**Monthly Rainfall in Bergen, 2023.**", "Monthly Rainfall in Bergen, 2023"),
        ("\u201cQuarterly Sales by Region\u201d", "Quarterly Sales by Region"),
        (
            "Here is a title for your chart:\n\n**Coffee Exports by Country**\n\nIt keeps it short.",
            "Coffee Exports by Country",
        ),
    ],
)
def test_topics_lose_preambles_quotes_and_trailing_periods(pool, reply, topic):
    """Problem 5: 9 of 28 titles kept their wrappers and ended up as figure titles."""
    llm = FakeLLM(lambda r: reply if "Give the title" in r.messages[-1].content else "no table")
    (example,) = DocsStageRunner(llm, DocsSettings(renderers=("graphviz",)), 0, pool).run(
        [plan_example(0, 0, "ex", ("graphviz",))]
    )
    assert example.topic == topic


def test_a_reply_with_no_title_left_is_rejected(pool):
    for reply, finish in (("Sure! Here's a title:", "stop"), ("Sure! Here's a title: \"The Lind", "length")):
        llm = FakeLLM(lambda r, reply=reply, finish=finish: (reply, finish))
        (example,) = DocsStageRunner(llm, DocsSettings(renderers=("graphviz",)), 0, pool).run(
            [plan_example(0, 0, "ex", ("graphviz",))]
        )
        assert example.failure.stage == "topic"
        assert example.failure.reason in ("no title in the reply", "reply cut at 64 tokens (the token limit)")


@pytest.mark.parametrize("structured", [True, False])
def test_stages_with_a_format_ask_for_it_as_a_json_schema(pool, structured):
    import json

    from generators.docs import prompts

    llm = FakeLLM()
    settings = DocsSettings(renderers=("graphviz",), repair_attempts=1, structured=structured)
    DocsStageRunner(llm, settings, 0, pool).run([plan_example(0, 0, "ex", ("graphviz",))])
    schemas = [b[0].params.json_schema for b in llm.batches]
    if not structured:
        assert schemas == [None] * len(schemas)
        return
    topic, data, code, repair, qa = schemas
    assert topic is None and code is None and repair is None  # a title and DOT have no JSON form
    assert json.loads(data) == prompts.TABLE_SCHEMA and json.loads(qa) == prompts.QA_SCHEMA
    assert '{"pairs": [{"question"' in llm.batches[-1][0].messages[1].content  # the shown answer is JSON too
    request = prompts.code_request("k", (), 100, 0.4, 1, "vegalite", True)
    assert json.loads(request.params.json_schema)["required"] == ["data"]


def test_structured_replies_are_parsed(pool):
    import json

    def reply(request):
        last = request.messages[-1].content
        if "Give the title" in last:
            return "Hive weights in June"
        if "Invent realistic data" in last:
            return json.dumps({"columns": ["Hive", "Kg"], "rows": [["A", 12], ["B", 9.5], ["C", 14]]})
        if "Write questions" in last:
            pairs = [{"question": "How much does hive A weigh?", "answer": "12 kg"},
                     {"question": "Which hive is heaviest?", "answer": "C"},
                     {"question": "Is hive B lighter than hive A?", "answer": "Yes"},
                     {"question": "How much does hive B", "answer": "9."}]  # fmt: skip
            return json.dumps({"pairs": pairs})[:-40], "length"  # cut inside the last object
        return 'digraph G {\n  A -> B;\n  B -> C;\n  label="Hive weights";\n}\n'

    (example,) = DocsStageRunner(FakeLLM(reply), DocsSettings(renderers=("graphviz",)), 0, pool).run(
        [plan_example(0, 0, "ex", ("graphviz",))]
    )
    assert example.failure is None and example.data == "Hive,Kg\nA,12\nB,9.5\nC,14\n"
    assert [p.answer for p in example.qa] == ["12 kg", "C", "Yes"]
