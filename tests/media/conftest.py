import pytest

from tests.media.http_server import serving


@pytest.fixture(scope="session")
def image_server():
    with serving() as server:
        yield server
