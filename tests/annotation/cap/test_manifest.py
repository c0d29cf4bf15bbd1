"""Reading Cap manifests: the annotation app's JSONL, CSV/TSV and Parquet, relative paths, bad records and files."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from annotation.cap.manifest import ManifestError, derived_record_id, read_manifest, resolve, split_list
from annotation.exports import CAP_MANIFEST, CapRecord, write_jsonl


def records(entries):
    return [item for _, item in entries if isinstance(item, CapRecord)]


def problems(entries):
    return [(line, str(item)) for line, item in entries if isinstance(item, ValueError)]


def test_reads_the_annotation_apps_export_with_paths_relative_to_its_folder(tmp_path):
    export = tmp_path / "EXPORT"
    export.mkdir()
    write_jsonl(
        str(export / CAP_MANIFEST),
        [
            CapRecord("r1", "images/a.jpg", ["audio/1.webm", "audio/2.ogg"], reference_texts=["one", "two"]),
            CapRecord("r2", "https://example.com/b.jpg", ["/abs/3.wav", "gs://bucket/4.flac"], image_url="https://x/b"),
        ],
    )
    got = records(read_manifest(str(export / CAP_MANIFEST)))
    assert [r.record_id for r in got] == ["r1", "r2"]
    assert got[0].image == f"{export}/images/a.jpg"
    assert got[0].audio == [f"{export}/audio/1.webm", f"{export}/audio/2.ogg"]
    assert got[0].reference_texts == ["one", "two"]
    assert got[1].image == "https://example.com/b.jpg" and got[1].audio == ["/abs/3.wav", "gs://bucket/4.flac"]


def test_jsonl_bad_lines_are_reported_with_their_line_and_the_rest_is_kept(tmp_path):
    path = tmp_path / "m.jsonl"
    lines = [
        json.dumps({"record_id": "ok", "image": "a.jpg", "audio": ["a.wav"]}),
        "{not json",
        json.dumps({"record_id": "x", "image": "a.jpg", "audio": []}),
        json.dumps({"record_id": "y", "image": "a.jpg", "audio": ["a.wav"], "colour": "red"}),
        "",
        json.dumps({"record_id": "z", "image": "a.jpg", "audio": ["a.wav", "b.wav"], "reference_texts": ["one"]}),
        json.dumps({"record_id": "w", "image": "a.jpg", "audio": ["a.wav", "a.wav"]}),
    ]
    path.write_text("\n".join(lines) + "\n")
    entries = read_manifest(str(path))
    assert [r.record_id for r in records(entries)] == ["ok"]
    found = dict(problems(entries))
    assert sorted(found) == [2, 3, 4, 6, 7]
    assert "no audio files" in found[3]
    assert "unknown keys ['colour']" in found[4]
    assert "1 reference texts for 2 audio files" in found[6]
    assert "listed twice" in found[7]
    assert all(text.startswith("m.jsonl line ") for text in found.values())


def test_csv_lists_as_pipes_or_json_and_record_ids_derived_stably(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(
        "image,audio,reference_texts,annotators\n"
        'a.jpg,one.wav|two.mp3,"[""first text"", ""second, with a comma""]",ann1|ann2\n'
        "b.jpg,three.m4a,,\n"
        "c.jpg,,,\n"
    )
    entries = read_manifest(str(path))
    first, second = records(entries)
    assert first.audio == [f"{tmp_path}/one.wav", f"{tmp_path}/two.mp3"]
    assert first.reference_texts == ["first text", "second, with a comma"] and first.annotators == ["ann1", "ann2"]
    assert first.record_id == derived_record_id("a.jpg", ["one.wav", "two.mp3"])  # from the manifest's own text
    assert records(read_manifest(str(path)))[0].record_id == first.record_id  # stable
    assert second.record_id != first.record_id and second.reference_texts == []
    assert problems(entries) == [(4, "m.csv line 4: no audio files")]


def test_tsv_and_parquet_with_list_columns(tmp_path):
    tsv = tmp_path / "m.tsv"
    tsv.write_text("record_id\timage\taudio\nt1\ta.jpg\tx.wav\n")
    assert records(read_manifest(str(tsv)))[0].record_id == "t1"
    table = pa.table(
        {
            "image": ["a.jpg", "b.jpg"],
            "audio": [["x.wav", "y.wav"], ["z.wav"]],
            "reference_texts": [["one", "two"], []],
            "record_id": ["p1", None],
        }
    )
    pq.write_table(table, tmp_path / "m.parquet")
    got = records(read_manifest(str(tmp_path / "m.parquet")))
    assert [r.record_id for r in got] == ["p1", derived_record_id("b.jpg", ["z.wav"])]
    assert got[0].audio == [f"{tmp_path}/x.wav", f"{tmp_path}/y.wav"] and got[0].reference_texts == ["one", "two"]


def test_unreadable_manifests_raise_a_clear_error(tmp_path):
    with pytest.raises(ManifestError, match="unknown manifest format"):
        read_manifest(str(tmp_path / "m.xlsx"))
    with pytest.raises(ManifestError, match="cannot read the manifest"):
        read_manifest(str(tmp_path / "missing.jsonl"))
    (tmp_path / "cols.csv").write_text("url,sound\na.jpg,a.wav\n")
    with pytest.raises(ManifestError, match="no image or audio column"):
        read_manifest(str(tmp_path / "cols.csv"))
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ManifestError, match="not a readable Parquet file"):
        read_manifest(str(tmp_path / "bad.parquet"))


def test_helpers():
    assert resolve("a/b.wav", "gs://bucket/export") == "gs://bucket/export/a/b.wav"
    assert resolve("../x.wav", "/data/export") == "/data/x.wav"
    assert split_list(" a | b |") == ["a", "b"] and split_list('["a|b"]') == ["a|b"] and split_list(None) == []
    with pytest.raises(ValueError, match="not a JSON list"):
        split_list("[broken")
