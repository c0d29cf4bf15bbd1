"""pipelines/common/media_loader.py: many images at once, a stalled server holding one slot only."""

import pytest

from media.decode import DecodeConfig
from media.fetch import FetchConfig
from pipelines.common.media_loader import LoadedImage, load_images
from tests.media.http_server import serving

PHOTOS = 10


@pytest.fixture()
def server():
    with serving() as running:
        yield running


def test_a_stalled_download_holds_no_other_download_of_its_host(server):
    hold = server.url + "/hold"
    photos = [server.url + f"/photo?seed={i}" for i in range(PHOTOS)]
    loading = load_images([hold, *photos], FetchConfig(timeout_s=60, retries=0), DecodeConfig(), per_host=4)
    # /hold answers only when released, so these arrive while it stalls (or it times out after 30 s, and fails).
    first = [next(loading) for _ in photos]
    assert sorted(ref for ref, _ in first) == sorted(photos)
    assert all(isinstance(image, LoadedImage) for _, image in first)
    server.release_hold.set()
    (ref, image), *rest = list(loading)
    assert ref == hold and isinstance(image, LoadedImage) and rest == []


def test_a_failed_download_is_its_own_error_and_the_others_load(server, tmp_path):
    missing = str(tmp_path / "missing.jpg")
    results = dict(load_images([missing, server.url + "/photo?seed=1"], FetchConfig(retries=0), DecodeConfig()))
    assert isinstance(results[server.url + "/photo?seed=1"], LoadedImage)
    assert not isinstance(results[missing], LoadedImage) and str(results[missing])
