"""The sample manifest maker: espeak-ng speaks descriptions of the bundled photos into wavs and a manifest."""

import os

import pytest

from annotation.cap.make_sample_manifest import bundled_images_dir, main
from annotation.cap.manifest import read_manifest
from annotation.cap.samples import DESCRIPTIONS
from annotation.exports import CAP_MANIFEST
from inference.asr import check_audio, decode_audio_file

pytestmark = pytest.mark.skipif(bundled_images_dir() is None, reason="ultralytics (the sample photos) is not installed")


def test_writes_an_export_style_manifest_with_spoken_references(tmp_path, capsys):
    assert main([str(tmp_path / "sample")]) == 0
    assert "2 images, 3 recordings" in capsys.readouterr().out
    entries = read_manifest(str(tmp_path / "sample" / CAP_MANIFEST))
    records = [r for _, r in entries]
    assert [r.record_id for r in records] == ["sample-bus", "sample-zidane"]
    for record in records:
        name = os.path.basename(record.image)
        assert os.path.isfile(record.image) and record.reference_texts == DESCRIPTIONS[name]
        for path in record.audio:
            assert 15 < check_audio(decode_audio_file(path)) < 60  # real speech, not silence
    # Paths in the file are relative to its folder, as the annotation app writes them.
    assert '"audio": ["audio/bus-0.wav", "audio/bus-1.wav"]' in (tmp_path / "sample" / CAP_MANIFEST).read_text()
