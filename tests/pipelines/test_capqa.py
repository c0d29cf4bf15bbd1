"""CapQA end to end: captions in Cap's layout -> the real embedded LLM -> rows or dead letters, Cap's splits kept,
reports; the same through an OpenAI-compatible endpoint; input problems before any work."""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import beam_runner
from media.samples import bundled_images_dir
from schemas import capqa as capqa_schema
from schemas.common import sha256_hex

CAPTIONS = {
    "bus": (
        "A blue city bus is parked on a street in front of a building. Four people stand on the sidewalk next to "
        "the bus; one man wears a dark jacket and jeans. The words 'cero emisiones' are written on its side."
    ),
    "zidane": (
        "Two men in dark suits stand in a room. The man on the left is bald and wears a red tie. The man on the "
        "right smiles and holds his hand up. A wooden wall is behind them."
    ),
}
FAST = ["--workers", "1", "--no-progress", "--turns", "2", "--qa-tokens", "48", "--llm-cpu-threads", "1"]


def cap_shard(path: Path, rows: list[tuple[str, str, str]]) -> None:
    """A Parquet file with Cap's columns: (example_id, image name, caption) per row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    images = Path(bundled_images_dir())
    records = []
    for example_id, name, caption in rows:
        data = (images / f"{name}.jpg").read_bytes()
        records.append(
            {
                "example_id": example_id,
                "image": {"bytes": data, "path": f"{name}.jpg"},
                "image_sha256": sha256_hex(data),
                "image_url": f"https://example.org/{name}.jpg",
                "caption": caption,
            }
        )
    pq.write_table(pa.Table.from_pylist(records), path)


@pytest.fixture(scope="module")
def cap_folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("out") / "cap"
    cap_shard(
        root / "train" / "part-00000-of-00001.parquet", [("cap-bus", "bus", CAPTIONS["bus"]), ("cap-empty", "bus", " ")]
    )
    cap_shard(root / "validation" / "part-00000-of-00001.parquet", [("cap-zidane", "zidane", CAPTIONS["zidane"])])
    cap_shard(root / "_rejected" / "not-data.parquet", [("cap-x", "bus", "ignored")])  # not a split folder
    # The same id again in a later file (by path): the first copy (train) is kept, this one is a dead letter.
    cap_shard(root / "validation" / "part-00001-of-00001.parquet", [("cap-bus", "bus", CAPTIONS["bus"])])
    return root


@pytest.fixture(scope="module")
def run(cap_folder) -> dict:
    output = cap_folder.parent
    code = beam_runner.main(["capqa", "--output", str(output), *FAST])  # default input: OUTPUT/cap
    dataset = output / "capqa"
    rows = [r for f in sorted(dataset.glob("*/*.parquet")) for r in pq.read_table(f).to_pylist()]
    splits = {f.parent.name for f in dataset.glob("*/*.parquet")}
    dead = [json.loads(line) for f in dataset.glob("_rejected/*.jsonl") for line in f.read_text().splitlines()]
    return {"code": code, "dataset": dataset, "rows": rows, "dead": dead, "splits": splits}


def test_every_caption_row_is_a_row_or_a_dead_letter(run):
    assert run["code"] == (0 if run["rows"] else 1)
    assert len(run["rows"]) + len(run["dead"]) == 4
    stages = sorted(d["stage"] for d in run["dead"])
    assert "input" in stages and "duplicate" in stages  # the empty caption and the second cap-bus
    assert all(d["stage"] in ("input", "duplicate", "qa", "llm") for d in run["dead"])
    assert not [d for d in run["dead"] if "Traceback" in d.get("details", "")]


def test_rows_are_valid_conversations_that_keep_caps_split(run):
    for row in run["rows"]:
        assert capqa_schema.validate(row) == []
        assert row["source_example_id"] in ("cap-bus", "cap-zidane")
        assert row["example_id"] == f"capqa-{row['source_example_id']}"
        assert row["caption"] == CAPTIONS[row["source_example_id"][4:]]
    expected = {"cap-bus": "train", "cap-zidane": "validation"}
    kept = {r["source_example_id"] for r in run["rows"]}
    assert run["splits"] == {expected[k] for k in kept}


def test_reports(run):
    dataset = run["dataset"]
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert manifest["arguments"]["turns"] == 2
    assert (dataset / "preview.html").exists() and (dataset / "README.md").exists()
    if run["rows"]:
        assert (dataset / "stats" / "capqa_stats.json").exists()


def test_same_command_through_an_openai_endpoint(tmp_path, served_url):
    cap_shard(tmp_path / "captions.parquet", [("cap-bus", "bus", CAPTIONS["bus"])])
    args = ["capqa", "--input", str(tmp_path / "captions.parquet"), "--output", str(tmp_path / "out"), *FAST]
    code = beam_runner.main([*args, "--llm-backend", "openai", "--llm-url", served_url])
    dataset = tmp_path / "out" / "capqa"
    rows = [r for f in dataset.glob("*/*.parquet") for r in pq.read_table(f).to_pylist()]
    dead = [json.loads(line) for f in dataset.glob("_rejected/*.jsonl") for line in f.read_text().splitlines()]
    assert code == (0 if rows else 1) and len(rows) + len(dead) == 1
    assert json.loads((dataset / "manifest.json").read_text())["arguments"]["llm_url"] == served_url
    assert not [d for d in dead if d["stage"] == "llm"]  # the server answered


def test_input_problems_are_reported_before_any_work(tmp_path, capsys):
    assert beam_runner.main(["capqa", "--output", str(tmp_path)]) == 2
    assert "build Cap first" in capsys.readouterr().err
    assert beam_runner.main(["capqa", "--input", str(tmp_path / "none.parquet"), "--turns", "0"]) == 2
    err = capsys.readouterr().err
    assert "--turns must be in 1..8" in err and "no Parquet files" in err
