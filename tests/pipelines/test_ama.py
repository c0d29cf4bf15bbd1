"""The AMA pipeline end to end on the local runner, from an export with accepted, edited and rejected rounds."""

import json
import os
import shutil

import pyarrow.parquet as pq
import pytest

import beam_runner
from annotation.exports import AMA, AMARecord, AMARound, write_jsonl
from pipelines.common.listing import example_id_for
from pipelines.count import bundled_images_dir
from schemas import ama as ama_schema

ASSETS = bundled_images_dir()
pytestmark = pytest.mark.skipif(ASSETS is None, reason="ultralytics (bundled sample images) is not installed")
MODEL = "SmolLM2-135M-Instruct.Q4_1.gguf"


def round_(draft, action, **extra):
    return AMARound(draft=draft, action=action, model=MODEL, ocr_text="", **extra)


RECORDS = [
    AMARecord("a-colour", "images/bus.jpg", "What colour is the bus?",
              [round_("It is red.", "rejected", reason="wrong colour"), round_("The bus is blue.", "accepted")],
              "The bus is blue.", annotator="ann1"),
    AMARecord("a-people", "images/zidane.jpg", "How many men are there?",
              [round_("There are three men.", "edited", edited_answer="There are two men.")], "There are two men."),
    AMARecord("a-rejected", "images/bus.jpg", "What is the driver's name?",
              [round_("Bob.", "rejected", reason="not visible"), round_("Alice.", "rejected", reason="guess")], ""),
    AMARecord("a-missing", "images/missing.jpg", "What is this?", [round_("A cat.", "accepted")], "A cat."),
    AMARecord("a-mismatch", "images/bus.jpg", "Where?", [round_("In a city.", "accepted")], "On a road."),
    AMARecord("a-action", "images/bus.jpg", "When?", [round_("Daytime.", "maybe")], "Daytime."),
]  # fmt: skip
BAD = {
    "a-rejected": ("check", "no accepted answer"),
    "a-missing": ("image", "cannot read the image"),
    "a-mismatch": ("check", "differs from round 0's accepted answer"),
    "a-action": ("check", "action 'maybe' is not one of"),
}


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    (root / "images").mkdir()
    for name in ("bus.jpg", "zidane.jpg"):
        shutil.copy(os.path.join(ASSETS, name), root / "images" / name)
    write_jsonl(str(root / AMA), RECORDS)
    with open(root / AMA, "a") as f:
        f.write("[1, 2, 3]\n")
    return root


@pytest.fixture(scope="module")
def dataset(export, tmp_path_factory):
    output = tmp_path_factory.mktemp("out")
    # The records file itself as --input: its folder is the export.
    code = beam_runner.main(
        ["ama", "--input", str(export / AMA), "--output", str(output), "--workers", "1", "--no-progress"]
    )
    assert code == 0
    return output / "ama"


def test_every_question_is_a_row_or_a_dead_letter(dataset):
    rows = pq.read_table(str(dataset / "train")).to_pylist()
    dead = [json.loads(line) for f in sorted((dataset / "_rejected").iterdir()) for line in f.read_text().splitlines()]
    assert len(rows) + len(dead) == len(RECORDS) + 1
    assert sorted(r["record_id"] for r in rows) == ["a-colour", "a-people"]
    by_id = {d["details"].get("record_id") or d["details"].get("record", {}).get("record_id"): d for d in dead}
    for record_id, (stage, reason) in BAD.items():
        assert by_id[record_id]["stage"] == stage and reason in by_id[record_id]["reason"], by_id[record_id]
    # The all-rejected question keeps its rounds in the dead letter.
    assert [r["reason"] for r in by_id["a-rejected"]["details"]["record"]["rounds"]] == ["not visible", "guess"]
    assert by_id[None]["stage"] == "parse" and "expected a JSON object" in by_id[None]["reason"]


def test_rows_carry_the_answer_and_its_history(dataset):
    rows = {r["record_id"]: r for r in pq.read_table(str(dataset / "train")).to_pylist()}
    for row in rows.values():
        assert ama_schema.validate(row) == []
        assert row["example_id"] == example_id_for("ama", row["record_id"])
        assert row["draft_model"] == MODEL and row["provenance"]["models"] == [MODEL]
    colour = rows["a-colour"]
    assert (colour["question"], colour["answer"], colour["final_action"], colour["rounds"]) == (
        "What colour is the bus?", "The bus is blue.", "accepted", 2,
    )  # fmt: skip
    history = json.loads(colour["draft_history"])
    assert [(h["action"], h["reason"]) for h in history] == [("rejected", "wrong colour"), ("accepted", "")]
    people = rows["a-people"]
    assert people["answer"] == "There are two men." and people["final_action"] == "edited"
    assert json.loads(people["draft_history"])[0]["draft"] == "There are three men."


def test_reports(dataset):
    assert {"actions.svg", "rounds_per_question.svg", "question_lengths.svg", "answer_lengths.svg"} <= set(
        os.listdir(dataset / "stats")
    )
    summary = json.loads((dataset / "stats" / "ama_stats.json").read_text())
    assert summary["round_actions"] == {"rejected": 1, "accepted": 1, "edited": 1}
    assert summary["rounds_per_question"] == {"1": 1, "2": 1}
    preview = (dataset / "preview.html").read_text()
    assert preview.count('class="card"') == 2 and "wrong colour" in preview and "There are two men." in preview
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert manifest["rows"] == 2 and manifest["rejected"] == 5
