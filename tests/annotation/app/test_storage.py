"""File storage: images decoded and named by their hash, audio probed with ffprobe and named by its annotation id;
an upload's own file name is never used as a path."""

import io
from pathlib import Path

import pytest
from PIL import Image

from annotation.app.storage import AudioIdTaken, BadUpload, Storage, display_name, probe_audio
from tests.annotation.app.api_client import speech, to_webm


def png(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "shown"),
    [("../../etc/passwd", "passwd"), ("..\\..\\boot.ini", "boot.ini"), ("a\x00b\nc.jpg", "abc.jpg"), ("", "unnamed")],
)
def test_display_names_are_the_last_part_with_printable_characters(name: str, shown: str) -> None:
    assert display_name(name) == shown


def test_images_are_decoded_and_stored_by_hash(tmp_path: Path) -> None:
    storage = Storage(str(tmp_path))
    sha, extension, width, height = storage.save_image(png())
    assert (extension, width, height) == ("png", 64, 48)
    assert [p.name for p in (tmp_path / "images").iterdir()] == [f"{sha}.png"]
    assert storage.save_image(png())[0] == sha  # the same bytes again: the same file
    with pytest.raises(BadUpload, match="not a usable image"):
        storage.save_image(b"<html>not an image</html>")
    with pytest.raises(BadUpload, match="not a usable image"):
        storage.save_image(png()[:60])  # truncated


def test_audio_is_probed_by_content(tmp_path: Path) -> None:
    wav = speech(tmp_path / "a.wav", "A red bus.")
    extension, seconds = probe_audio(wav)
    assert extension == "wav" and 0.3 < seconds < 3
    webm_extension, webm_seconds = probe_audio(to_webm(tmp_path / "a.wav"))
    assert webm_extension == "webm" and abs(webm_seconds - seconds) < 0.2
    for bad, message in ((png(), "not audio"), (b"", "empty"), (b"RIFF....WAVEfmt garbage", "not an audio file")):
        with pytest.raises(BadUpload, match=message):
            probe_audio(bad)


def test_recordings_are_named_by_id_and_never_overwritten(tmp_path: Path) -> None:
    storage = Storage(str(tmp_path))
    first = speech(tmp_path / "a.wav", "A red bus.")
    second = speech(tmp_path / "b.wav", "A blue car.")
    assert storage.save_audio("rec-1", first)[0] == "wav"
    assert storage.save_audio("rec-1", first)[0] == "wav"  # a retry with the same bytes is fine
    with pytest.raises(AudioIdTaken):
        storage.save_audio("rec-1", second)
    assert Path(storage.audio_path("rec-1", "wav")).read_bytes() == first
    with pytest.raises(BadUpload, match="annotation_id"):
        storage.save_audio("../../etc/passwd", first)
    storage.remove_audio("rec-1", "wav")
    storage.remove_audio("rec-1", "wav")  # already gone: fine
    assert not list((tmp_path / "audio").iterdir())
