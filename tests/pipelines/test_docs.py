"""The Docs pipeline: rows from the maker (scripted LLM, real renderer), reports, argument checks, and the real
embedded model through the real pipeline, locally and through an OpenAI-compatible endpoint."""

import argparse
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import beam_runner
from generators.docs.renderers import RENDERERS
from generators.docs.stages import DocsSettings
from inference.llm import LLMConfig
from pipelines.common.report import RunReport
from pipelines.docs import Docs, DocsMaker, stage_funnel
from pipelines.registry import load
from schemas import docs as docs_schema
from tests.generators.docs.fake_llm import FakeLLM

REPO = Path(__file__).resolve().parents[2]
# Small budgets keep the real-model runs short; most of their examples end as dead letters, which is the point:
# the accounting must hold whatever the model writes.
TINY = [
    "--num-examples", "2", "--splits", "train=2", "--workers", "1", "--no-progress", "--preview-rows", "2",
    "--renderers", "graphviz,mermaid", "--repair-attempts", "1",
    "--topic-tokens", "24", "--data-tokens", "96", "--code-tokens", "128", "--qa-tokens", "128",
]  # fmt: skip


@pytest.fixture(scope="module")
def made_rows():
    maker = DocsMaker(LLMConfig(), DocsSettings(renderers=("graphviz",)), seed=3, code_version="test")
    maker.setup()
    maker.llm = FakeLLM()  # the real model runs in the end-to-end tests below
    try:
        yield maker.make_many([0, 1, 2], "train")
    finally:
        maker.teardown()


def test_maker_rows_are_valid_and_record_their_making(made_rows):
    assert all(isinstance(r, dict) for r in made_rows)
    for row in made_rows:
        assert docs_schema.validate(row) == []
        assert row["renderer"] == "graphviz" and row["config"] == "diagrams" and row["render_attempts"] == 2
        assert row["questions"]["answer"] == ["12", "(C) C", "No"]
        details = json.loads(row["provenance"]["details"])
        assert [a["stage"] for a in details["attempts"]] == ["render", "ok"]
        assert row["provenance"]["models"] == ["fake-llm"] and row["provenance"]["prompts_version"]
    assert len({r["persona"] for r in made_rows}) == 3


def report_of(table, rejects):
    return RunReport(table, rejects, [], {"rows": table.num_rows, "rejected": len(rejects), "splits": {}})


def test_reports_from_rows_and_dead_letters(made_rows, tmp_path):
    dead = [
        {"stage": "data", "reason": "x", "details": {"renderer": "latex"}},
        {"stage": "qa", "reason": "y", "details": {"renderer": "graphviz", "attempts": [{}, {}]}},
    ]
    table = pa.Table.from_pylist([{c: r[c] for c in Docs.stats_columns} for r in made_rows])
    files = Docs().plot_stats(report_of(table, dead), str(tmp_path / "stats"))
    assert {"stage_funnel.svg", "renderer_success.svg", "qa_per_image.svg", "configs.svg"} <= set(files)
    assert all((tmp_path / "stats" / f).stat().st_size > 0 for f in files)
    assert stage_funnel(3, dead) == {
        "examples": 5, "topic ok": 5, "data ok": 4, "code rendered": 4, "image checks ok": 4, "QA ok": 3, "rows": 3,
    }  # fmt: skip
    funnel = json.loads((tmp_path / "stats" / "funnel.json").read_text())
    assert funnel["renderers"]["latex"] == {"examples": 1, "rows": 0, "data": 1}
    assert funnel["funnel"]["rows"] == 3
    item = Docs().preview_item(made_rows[0])
    assert item.image.startswith(b"\x89PNG") and item.fields["renderer"] == "graphviz"
    assert item.qa[0] == ("[short] How much does hive A weigh?", "12")


def test_reports_when_nothing_was_kept(tmp_path):
    """A run that kept no row still says where every example stopped (the driver plots for docs even then)."""
    dead = [{"stage": s, "reason": "x", "details": {"renderer": "mermaid"}} for s in ("data", "data", "code")]
    assert Docs.plots_without_rows
    files = Docs().plot_stats(report_of(pa.table({}), dead), str(tmp_path / "stats"))
    assert {"stage_funnel.svg", "renderer_success.svg", "rejects_by_renderer_stage.svg"} <= set(files)
    funnel = json.loads((tmp_path / "stats" / "funnel.json").read_text())
    assert funnel["funnel"]["examples"] == 3 and funnel["funnel"]["rows"] == 0
    assert funnel["renderers"]["mermaid"] == {"examples": 3, "rows": 0, "data": 2, "code": 1}


def test_bad_arguments_are_reported_before_work():
    parser = argparse.ArgumentParser()
    Docs().add_arguments(parser)
    args = parser.parse_args(["--renderers", "graphviz,paint", "--repair-attempts", "-1", "--llm-backend", "openai"])
    problems = " ".join(Docs().check_arguments(args))
    assert "paint" in problems and "--repair-attempts" in problems and "--llm-url" in problems


def check_run(output: Path, examples: int) -> dict:
    """Every example is a row or a dead letter, and rows that exist are valid. A run that kept no rows is not
    published: it is checked in the staging folder it leaves."""
    root = output / "docs"
    if not root.exists():
        (root,) = output.glob(".docs.incomplete-*")
    manifest = json.loads((root / "manifest.json").read_text())
    dead = [json.loads(line) for f in (root / "_rejected").glob("*.jsonl") for line in f.read_text().splitlines()]
    rows = pq.read_table(str(root / "train")).to_pylist()
    assert manifest["rows"] == len(rows) and manifest["rejected"] == len(dead)
    assert len(rows) + len(dead) == examples
    for row in rows:
        assert docs_schema.validate(row) == []
    for record in dead:
        assert record["stage"] in ("topic", "data", "code", "render", "image_checks", "qa", "validate")
    assert not any("Traceback" in json.dumps(d) for d in dead)  # failures are expected rejections, not bugs
    funnel = json.loads((root / "stats" / "funnel.json").read_text())  # written even when nothing was kept
    assert funnel["funnel"]["examples"] == examples and funnel["funnel"]["rows"] == len(rows)
    return {"manifest": manifest, "rows": rows, "dead": dead}


def transport_error(record: dict) -> bool:
    """An LLM error other than the model's own empty reply (which a tiny budget can give)."""
    return record["reason"].startswith("LLM error") and "empty completion" not in record["reason"]


def test_real_embedded_model_through_the_pipeline(tmp_path):
    assert load("docs").name == "docs"
    code = beam_runner.main(["docs", "--output", str(tmp_path), *TINY])
    run = check_run(tmp_path, 2)
    assert code == (0 if run["rows"] else 1)  # the driver fails a run that kept nothing
    assert run["manifest"]["arguments"]["llm_backend"] == "transformers"
    assert not [d for d in run["dead"] if transport_error(d)]


def test_same_command_through_an_openai_endpoint(tmp_path, served_url):
    openai = ["--llm-backend", "openai", "--llm-url", served_url]
    code = beam_runner.main(["docs", "--output", str(tmp_path), *TINY, *openai])
    run = check_run(tmp_path, 2)
    assert code == (0 if run["rows"] else 1)
    assert run["manifest"]["arguments"]["llm_url"] == served_url
    # The endpoint answered: no example died of a connection or HTTP error.
    assert not [d for d in run["dead"] if transport_error(d)]


def code_is_whole(renderer: str, code: str) -> bool:
    """The kept program ends where its language ends (a cut reply would not)."""
    ends = {"html": "</html>", "latex": "\\end{document}", "graphviz": "}", "vegalite": "}"}
    if renderer in ends:
        return code.rstrip().endswith(ends[renderer])
    if renderer in ("matplotlib", "plotly"):
        return "output.png" in code.strip().splitlines()[-1] or "write_image" in code
    return len(code.strip().splitlines()) >= 3


@pytest.mark.parametrize("refuse_structured", [False, True], ids=["structured", "server-refuses-structured"])
def test_competent_replies_become_rows(tmp_path, refuse_structured):
    """Replies the way strong models write them (tests/generators/docs/competent), served over HTTP: at least
    95% of examples become rows; no kept row has cut code, a chatty title or an answer the data does not
    support; the reply cut at the token limit (an itemised 4k-token receipt) got its shorter round, and a QA
    reply cut at the limit lost only its partial pair."""
    from tests.generators.docs.competent.scenarios import ALL
    from tests.generators.docs.competent.server import serving

    examples = 20  # seed 8: all seven renderers, the over-long receipt and a QA reply cut at the limit
    with serving(refuse_structured=refuse_structured) as url:
        args = ["docs", "--output", str(tmp_path), "--num-examples", str(examples), "--seed", "8", "--workers", "2",
                "--splits", f"train={examples}", "--no-progress",
                "--llm-backend", "openai", "--llm-url", url]  # fmt: skip
        assert beam_runner.main(args) == 0
    run = check_run(tmp_path, examples)
    rows = run["rows"]
    assert len(rows) >= 0.95 * examples, [d["reason"] for d in run["dead"]]
    assert {r["renderer"] for r in rows} == set(RENDERERS)
    titles = {s.title for s in ALL.values()}
    for row in rows:
        assert row["topic"] in titles, row["topic"]  # no preamble, quotes or trailing period left
        assert code_is_whole(row["renderer"], row["code"]), row["code"][-200:]
        details = json.loads(row["provenance"]["details"])
        assert details["attempts"][-1]["stage"] == "ok"
        for question, answer in zip(row["questions"]["question"], row["questions"]["answer"], strict=True):
            assert "as shown" not in question, (question, answer)  # the planted wrong answers never survive
        assert details["structured"].get("data", False) is not refuse_structured
    receipt = next(r for r in rows if r["figure_type"] == "receipt")
    attempts = json.loads(receipt["provenance"]["details"])["attempts"]
    assert [a["stage"] for a in attempts] == ["code", "ok"] and attempts[0]["error"].startswith("reply cut at")
    if refuse_structured:  # the plain-text QA of the tents table explains every answer and runs out of tokens
        tents = next(r for r in rows if r["topic"] == "Comparison of three-season hiking tents")
        dropped = json.loads(tents["provenance"]["details"])["qa_dropped"]
        assert any(d["reason"].startswith("reply cut at") for d in dropped)
