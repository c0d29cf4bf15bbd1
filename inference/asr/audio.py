"""Audio in: any format ffmpeg reads -> 16 kHz mono float32, and the checks that keep unusable recordings out.

Every failure is an `AudioError` with a short reason a person can act on ("silent: peak -72 dBFS ..."), so the
pipeline turns it into a dead letter instead of crashing. No Beam here.
"""

import os
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Any

import numpy as np

SAMPLE_RATE = 16_000  # what Whisper models expect


class AudioError(Exception):
    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


@dataclass(frozen=True)
class AudioChecks:
    min_seconds: float = 2.0  # shorter recordings hold no usable description (PixMo asked for 60-90 s)
    max_seconds: float = 900.0  # longer ones are a mistake (a whole session) or an attack on memory
    # Silent: the loudest sample is below this (dBFS). Speech peaks near -20..0 dBFS; a muted mic sits below -60.
    silence_dbfs: float = -50.0
    max_bytes: int = 200 * 1024 * 1024
    ffmpeg_timeout_s: float = 120.0

    def validate(self) -> list[str]:
        problems = []
        if self.min_seconds < 0 or self.max_seconds <= self.min_seconds:
            problems.append("audio length limits must satisfy 0 <= min < max")
        if self.silence_dbfs >= 0:
            problems.append("the silence threshold must be below 0 dBFS")
        if self.max_bytes < 1 or self.ffmpeg_timeout_s <= 0:
            problems.append("the audio size cap and ffmpeg timeout must be positive")
        return problems


def decode_audio(data: bytes, checks: AudioChecks = AudioChecks()) -> np.ndarray:
    """Encoded audio bytes -> 16 kHz mono float32 samples in [-1, 1] (raises AudioError).

    The bytes go through a temporary file, not a pipe: some containers (mp4/m4a with the index at the end)
    need a seekable input.
    """
    if not data:
        raise AudioError("empty: the audio file has 0 bytes")
    if len(data) > checks.max_bytes:
        raise AudioError(f"too large: more than the {checks.max_bytes}-byte cap", bytes=len(data))
    with tempfile.NamedTemporaryFile(prefix="pixmo-audio-", suffix=".bin") as handle:
        handle.write(data)
        handle.flush()
        return decode_audio_file(handle.name, checks)


def decode_audio_file(path: str, checks: AudioChecks = AudioChecks()) -> np.ndarray:
    """A local audio file -> 16 kHz mono float32 samples (raises AudioError with ffmpeg's own words)."""
    if os.path.getsize(path) == 0:
        raise AudioError("empty: the audio file has 0 bytes")
    command = [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "1", "-i", path,
        "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-t", str(checks.max_seconds + 1), "-f", "f32le", "pipe:1",
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, timeout=checks.ffmpeg_timeout_s, check=False)
    except FileNotFoundError:
        raise AudioError("ffmpeg is not installed (apt-get install ffmpeg)") from None
    except subprocess.TimeoutExpired:
        raise AudioError(f"unreadable: ffmpeg took longer than {checks.ffmpeg_timeout_s:g} s") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        raise AudioError("unreadable: ffmpeg cannot decode it: " + (lines[-1] if lines else f"exit {done.returncode}"))
    samples = np.frombuffer(done.stdout, dtype=np.float32).copy()
    if samples.size == 0:
        raise AudioError("empty: no audio samples (no audio stream, or zero length)")
    return samples


def encode_opus(samples: np.ndarray, bitrate: str = "24k", timeout_s: float = 60.0) -> bytes:
    """16 kHz mono float32 samples -> a small Ogg/Opus file (for players in previews; speech stays clear)."""
    command = [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "1",
        "-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "1", "-i", "pipe:0",
        "-c:a", "libopus", "-b:a", bitrate, "-f", "ogg", "pipe:1",
    ]  # fmt: skip
    done = subprocess.run(
        command, input=samples.astype(np.float32).tobytes(), capture_output=True, timeout=timeout_s, check=False
    )
    if done.returncode != 0 or not done.stdout:
        raise AudioError("ffmpeg could not encode Opus: " + done.stderr.decode("utf-8", "replace").strip()[-300:])
    return done.stdout


def peak_dbfs(samples: np.ndarray) -> float:
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return 20 * np.log10(peak) if peak > 0 else -np.inf


def check_audio(samples: np.ndarray, checks: AudioChecks = AudioChecks()) -> float:
    """Raise AudioError for audio that is too short, too long or silent; return its length in seconds."""
    seconds = samples.size / SAMPLE_RATE
    if seconds < checks.min_seconds:
        raise AudioError(f"too short: {seconds:.2f} s, under the {checks.min_seconds:g} s minimum", seconds=seconds)
    if seconds > checks.max_seconds:
        raise AudioError(f"too long: over the {checks.max_seconds:g} s maximum", seconds=seconds)
    level = peak_dbfs(samples)
    if level < checks.silence_dbfs:
        shown = "-inf" if level == -np.inf else f"{level:.0f}"
        raise AudioError(
            f"silent: peak {shown} dBFS, under the {checks.silence_dbfs:g} dBFS threshold", peak_dbfs=shown
        )
    return seconds
