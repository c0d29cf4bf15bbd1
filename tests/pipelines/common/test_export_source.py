"""Reading an annotation export: where the records file and the images are."""

import pytest

from annotation.exports import POINTS
from pipelines.common.export_source import export_paths, resolve_image


def test_export_paths_and_image_resolution(tmp_path):
    assert export_paths(str(tmp_path), POINTS) == (str(tmp_path / POINTS), str(tmp_path))
    assert export_paths(str(tmp_path / POINTS), POINTS) == (str(tmp_path / POINTS), str(tmp_path))
    assert export_paths("gs://b/exp/", POINTS) == ("gs://b/exp/points.jsonl", "gs://b/exp")
    assert resolve_image("gs://b/exp", "images/a.jpg") == "gs://b/exp/images/a.jpg"
    assert resolve_image(str(tmp_path), "https://x.org/a.jpg") == "https://x.org/a.jpg"
    assert resolve_image(str(tmp_path), "/abs/a.jpg") == "/abs/a.jpg"
    with pytest.raises(ValueError, match="leaves the export folder"):
        resolve_image("gs://b/exp", "../../a.jpg")
