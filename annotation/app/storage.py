"""Image and audio files on disk, content-checked and named by us (never by the uploader's filename)."""

import json
import os
import re
import subprocess
import tempfile
import threading

from media import DecodeConfig, MediaError, decode_image, sha256_hex

AUDIO_FORMATS = {
    "webm": "webm",
    "matroska": "webm",
    "ogg": "ogg",
    "wav": "wav",
    "mp3": "mp3",
    "mov": "m4a",
    "mp4": "m4a",
}
AUDIO_MIME = {"webm": "audio/webm", "ogg": "audio/ogg", "wav": "audio/wav", "mp3": "audio/mpeg", "m4a": "audio/mp4"}
IMAGE_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}


class BadUpload(ValueError):
    """An upload we refuse, with a message for the person who sent it."""


class AudioIdTaken(BadUpload):
    """A recording with this id is already stored, with other bytes."""


def display_name(filename: str | None) -> str:
    """A file name fit to show: the last path part, printable characters, at most 120 of them."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return name[:120] or "unnamed"


class Storage:
    def __init__(self, data_dir: str) -> None:
        self.images_dir = os.path.join(data_dir, "images")
        self.audio_dir = os.path.join(data_dir, "audio")
        os.makedirs(self.images_dir, exist_ok=True)
        os.makedirs(self.audio_dir, exist_ok=True)

    def image_path(self, sha256: str, extension: str) -> str:
        return os.path.join(self.images_dir, f"{sha256}.{extension}")

    def audio_path(self, annotation_id: str, extension: str) -> str:
        return os.path.join(self.audio_dir, f"{annotation_id}.{extension}")

    def save_image(self, data: bytes) -> tuple[str, str, int, int]:
        """Decode (rejecting non-images, bombs, truncation), store by sha256; -> (sha256, extension, w, h)."""
        try:
            decoded = decode_image(data, DecodeConfig())
        except MediaError as error:
            raise BadUpload(f"not a usable image: {error}") from None
        extension = IMAGE_EXTENSIONS.get(decoded.mime, "png")
        sha = sha256_hex(decoded.data)
        path = self.image_path(sha, extension)
        if not os.path.exists(path):
            _write_atomically(path, decoded.data)
        return sha, extension, decoded.width, decoded.height

    def save_audio(self, annotation_id: str, data: bytes) -> tuple[str, float]:
        """Probe with ffprobe (an audio stream, a duration), store; -> (extension, seconds)."""
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", annotation_id):
            raise BadUpload("annotation_id must be 1-64 letters, digits, '-' or '_'")
        extension, seconds = probe_audio(data)
        path = self.audio_path(annotation_id, extension)
        if not _write_new(path, data):
            with open(path, "rb") as handle:
                if handle.read() != data:  # never overwrite a stored recording
                    raise AudioIdTaken(f"a different recording is stored as {annotation_id}")
        return extension, seconds

    def remove_audio(self, annotation_id: str, extension: str) -> None:
        """Drop a file save_audio just stored and the app then refused (e.g. outside the recording window)."""
        try:
            os.remove(self.audio_path(annotation_id, extension))
        except FileNotFoundError:
            pass


def probe_audio(data: bytes) -> tuple[str, float]:
    if not data:
        raise BadUpload("the audio file is empty")
    with tempfile.NamedTemporaryFile(suffix=".upload") as handle:
        handle.write(data)
        handle.flush()
        try:
            done = subprocess.run(
                ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", handle.name],
                capture_output=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise BadUpload(f"could not read the audio: {error}") from None
        if done.returncode != 0:
            raise BadUpload("not an audio file ffmpeg can read")
        info = json.loads(done.stdout or b"{}")
        streams = info.get("streams", [])
        if not any(s.get("codec_type") == "audio" for s in streams):
            raise BadUpload("this is not audio: the file holds no sound (upload webm, ogg, wav, mp3 or m4a)")
        if any(s.get("codec_type") == "video" and s.get("disposition", {}).get("attached_pic") != 1 for s in streams):
            raise BadUpload("the file must contain audio only, not video")
        names = info.get("format", {}).get("format_name", "").split(",")
        extension = next((AUDIO_FORMATS[n] for n in names if n in AUDIO_FORMATS), None)
        if extension is None:
            raise BadUpload(f"unsupported audio container {names[0] if names else '?'} (use webm, ogg, wav, mp3, m4a)")
        seconds = float(info.get("format", {}).get("duration") or 0)
        if seconds <= 0:
            seconds = _decoded_seconds(handle.name)
        return extension, seconds


def _decoded_seconds(path: str) -> float:
    """Duration by decoding (MediaRecorder's webm has no duration in its header)."""
    done = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", path, "-f", "s16le", "-ac", "1", "-ar", "16000", "-"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise BadUpload("the audio could not be decoded")
    return len(done.stdout) / 2 / 16000


def _write_new(path: str, data: bytes) -> bool:
    """Write a file that must not exist yet, atomically (temp file + hard link); False if it already exists."""
    tmp = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
    with open(tmp, "wb") as handle:
        handle.write(data)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        os.remove(tmp)


def _write_atomically(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"  # threads upload the same image at once too
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
