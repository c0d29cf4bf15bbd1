"""CapQA end to end: a published Cap folder (read through its manifest) -> the real embedded LLM, two rounds ->
rows or dead letters, Cap's splits kept, funnels and reports; any caption Parquet through an OpenAI-compatible
endpoint; how inputs are found; input problems before any work."""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import beam_runner
from media.samples import bundled_images_dir
from pipelines.capqa import funnels, parquet_inputs
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
FAST = ["--workers", "1", "--no-progress", "--turns", "2", "--question-tokens", "24", "--answer-tokens", "32"]
FAST += ["--llm-cpu-threads", "1"]


def cap_shard(path: Path, rows: list[tuple[str, str, str]]) -> None:
    """A Parquet file with Cap's published columns: (example_id, image name, caption) per row."""
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


def publish(root: Path) -> None:
    """manifest.json as a finished run writes it: every file but itself."""
    files = [{"path": p.relative_to(root).as_posix(), "bytes": p.stat().st_size} for p in sorted(root.rglob("*.*"))]
    (root / "manifest.json").write_text(json.dumps({"subset": "cap", "files": files}))


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
    publish(root)
    cap_shard(root / "train" / "stray.parquet", [("cap-stray", "bus", CAPTIONS["bus"])])  # not in the manifest
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


def test_reports_and_funnels_account_for_every_caption_and_pair(run):
    dataset = run["dataset"]
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert manifest["arguments"]["turns"] == 2 and manifest["rows"] == len(run["rows"])
    assert (dataset / "preview.html").exists() and (dataset / "README.md").exists()
    stats = json.loads((dataset / "stats" / "funnel.json").read_text())
    captions, pairs = stats["caption_funnel"], stats["pair_funnel"]
    assert captions["caption rows read"] == 4 and captions["unique"] == 2 and captions["valid rows"] == len(run["rows"])
    assert pairs["pairs asked"] == 2 * 2  # both unique captions reached the LLM, two turns each
    kept = sum(len(r["messages"]) // 2 for r in run["rows"])
    assert pairs["in published rows"] == kept
    dropped = sum(r["rejected_turns"] for r in run["rows"]) + sum(
        len(d["details"]["dropped"]) for d in run["dead"] if d["stage"] in ("qa", "llm")
    )
    assert sum(stats["dropped_pairs_by_check"].values()) == dropped
    assert (dataset / "stats" / "pair_funnel.svg").exists() and (dataset / "stats" / "caption_funnel.svg").exists()


def test_any_caption_parquet_through_an_openai_endpoint(tmp_path, served_url):
    data = (Path(bundled_images_dir()) / "zidane.jpg").read_bytes()
    table = pa.table({"id": ["z", "no-image"], "text": [CAPTIONS["zidane"], CAPTIONS["bus"]], "jpeg": [data, None]})
    pq.write_table(table, tmp_path / "captions.parquet")
    args = ["capqa", "--input", str(tmp_path / "*.parquet"), "--output", str(tmp_path / "out"), *FAST]
    args += ["--caption-column", "text", "--image-column", "jpeg", "--id-column", "id"]
    code = beam_runner.main([*args, "--llm-backend", "openai", "--llm-url", served_url])
    dataset = tmp_path / "out" / "capqa"
    rows = [r for f in dataset.glob("*/*.parquet") for r in pq.read_table(f).to_pylist()]
    dead = [json.loads(line) for f in dataset.glob("_rejected/*.jsonl") for line in f.read_text().splitlines()]
    assert code == (0 if rows else 1) and len(rows) + len(dead) == 2
    assert [d["reason"] for d in dead if d["stage"] == "input"] == ["no image bytes"]
    assert all(r["source_example_id"] == "z" and capqa_schema.validate(r) == [] for r in rows)
    assert json.loads((dataset / "manifest.json").read_text())["arguments"]["llm_url"] == served_url
    assert not [d for d in dead if d["stage"] == "llm"]  # the server answered


def test_inputs_a_manifest_a_folder_or_a_glob(tmp_path):
    root = tmp_path / "captions"
    for name in ("a.parquet", "train/b.parquet", "deep/er/c.parquet", "_rejected/x.parquet", ".stage/y.parquet"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"PAR1")
    names = sorted(Path(p).relative_to(root).as_posix() for p, _ in parquet_inputs(str(root)))
    assert names == ["a.parquet", "deep/er/c.parquet", "train/b.parquet"]  # no manifest: every data file under it
    assert [Path(p).name for p, _ in parquet_inputs(str(root / "train" / "*.parquet"))] == ["b.parquet"]
    (root / "manifest.json").write_text(json.dumps({"files": [{"path": "train/b.parquet"}, {"path": "stats/s.svg"}]}))
    assert [Path(p).name for p, _ in parquet_inputs(str(root))] == ["b.parquet"]  # the manifest decides
    (root / "manifest.json").write_text(json.dumps({"files": [{"path": "train/gone.parquet"}]}))
    with pytest.raises(ValueError, match="lists 1 shard"):
        parquet_inputs(str(root))


def test_funnels_count_captions_pairs_and_checks():
    drop = {"stage": "question", "check": "no question mark"}
    rejects = [
        {"stage": "input", "details": {}},
        {"stage": "qa", "details": {"kept_pairs": 0, "dropped": [drop, {"stage": "answer", "check": "x"}]}},
    ]
    captions, pairs, by_check = funnels([[drop], []], pairs_in_rows=3, rejects=rejects)
    assert list(captions.values()) == [4, 3, 3, 2, 2]
    assert pairs == {"pairs asked": 6, "question kept": 4, "answer kept": 3, "in published rows": 3}
    assert by_check == {"question: no question mark": 2, "answer: x": 1}


def test_input_problems_are_reported_before_any_work(tmp_path, capsys):
    assert beam_runner.main(["capqa", "--output", str(tmp_path)]) == 2
    assert "build Cap first" in capsys.readouterr().err
    assert beam_runner.main(["capqa", "--input", str(tmp_path / "none.parquet"), "--turns", "0"]) == 2
    err = capsys.readouterr().err
    assert "--turns must be in 1..8" in err and "no Parquet files" in err
    (tmp_path / "cap").mkdir()
    (tmp_path / "cap" / "manifest.json").write_text(json.dumps({"files": [{"path": "train/gone.parquet"}]}))
    assert beam_runner.main(["capqa", "--output", str(tmp_path)]) == 2
    assert "lists 1 shard(s) that are missing" in capsys.readouterr().err
