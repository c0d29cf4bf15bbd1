"""Audio decoding with ffmpeg and the checks that keep empty, unreadable, too-short and silent recordings out."""

import subprocess

import numpy as np
import pytest

from inference.asr import SAMPLE_RATE, AudioChecks, AudioError, check_audio, decode_audio, decode_audio_file
from inference.asr.audio import peak_dbfs


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("clips")
    subprocess.run(
        [
            "espeak-ng",
            "-v",
            "en-us",
            "-w",
            str(root / "speech.wav"),
            "Two men in dark coats stand in front of a big blue bus.",
        ],
        check=True,
    )
    ffmpeg("-i", str(root / "speech.wav"), "-ar", "44100", "-ac", "2", str(root / "speech.flac"))
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "3", str(root / "silent.wav"))
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", "0.5", str(root / "short.wav"))
    (root / "empty.wav").write_bytes(b"")
    (root / "garbage.mp3").write_bytes(b"ID3 this is not audio at all" * 10)
    return root


def test_any_format_becomes_16khz_mono_float(clips):
    wav = decode_audio_file(str(clips / "speech.wav"))
    flac = decode_audio((clips / "speech.flac").read_bytes())  # 44.1 kHz stereo in, through a temp file
    assert wav.dtype == np.float32 and flac.dtype == np.float32
    assert 1.5 < wav.size / SAMPLE_RATE < 4.0
    assert abs(wav.size - flac.size) < SAMPLE_RATE // 50  # the same length after resampling (within 20 ms)
    assert -30 < peak_dbfs(wav) <= 0
    assert check_audio(wav) == pytest.approx(wav.size / SAMPLE_RATE)


def test_empty_and_unreadable_audio_say_why(clips):
    with pytest.raises(AudioError, match="^empty: the audio file has 0 bytes"):
        decode_audio_file(str(clips / "empty.wav"))
    with pytest.raises(AudioError, match="^empty"):
        decode_audio(b"")
    with pytest.raises(AudioError, match="^unreadable: ffmpeg cannot decode it: "):
        decode_audio((clips / "garbage.mp3").read_bytes())
    with pytest.raises(AudioError, match="^too large"):
        decode_audio(b"x" * 100, AudioChecks(max_bytes=10))


def test_silent_and_too_short_audio_are_rejected(clips):
    with pytest.raises(AudioError, match=r"^silent: peak -inf dBFS, under the -50 dBFS threshold"):
        check_audio(decode_audio_file(str(clips / "silent.wav")))
    with pytest.raises(AudioError, match=r"^too short: 0.50 s, under the 2 s minimum"):
        check_audio(decode_audio_file(str(clips / "short.wav")))
    quiet = (np.sin(np.arange(SAMPLE_RATE * 3) / 5) * 10 ** (-60 / 20)).astype(np.float32)  # a -60 dBFS hum
    with pytest.raises(AudioError, match="^silent: peak -60 dBFS"):
        check_audio(quiet)
    with pytest.raises(AudioError, match="^too long"):
        check_audio(np.full(SAMPLE_RATE * 5, 0.5, np.float32), AudioChecks(min_seconds=1, max_seconds=4))


def test_checks_are_validated():
    assert AudioChecks().validate() == []
    assert len(AudioChecks(min_seconds=5, max_seconds=4, silence_dbfs=3, max_bytes=0).validate()) == 3
