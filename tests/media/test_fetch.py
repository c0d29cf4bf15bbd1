"""Downloads against a real local server: retries, Retry-After cap, size cap, content checks, slow servers."""

import pytest

from media import FetchConfig, MediaError, fetch_url
from media.fetch import parse_retry_after

FAST = FetchConfig(timeout_s=0.5, deadline_s=5.0, retries=2, backoff_s=0.01, max_retry_after_s=2.0, max_bytes=100_000)


def failure(url: str, config: FetchConfig = FAST) -> MediaError:
    with pytest.raises(MediaError) as caught:
        fetch_url(url, config)
    return caught.value


def test_a_good_image_downloads_in_one_attempt(image_server):
    result = fetch_url(image_server.url + "/ok.jpg?t=good", FAST)
    assert result.data == image_server.image
    assert result.attempts == 1 and result.content_type == "image/jpeg"


def test_generic_binary_type_and_redirects_are_followed(image_server):
    assert fetch_url(image_server.url + "/octet", FAST).data == image_server.image
    result = fetch_url(image_server.url + "/redirect", FAST)
    assert result.data == image_server.image and result.final_url.endswith("/ok.jpg")


def test_server_errors_are_retried_with_backoff(image_server):
    result = fetch_url(image_server.url + "/flaky?t=retry", FAST)
    assert result.data == image_server.image and result.attempts == 3
    assert image_server.hits["/flaky?t=retry"] == 3


def test_retries_are_bounded(image_server):
    error = failure(image_server.url + "/always-503?t=bounded")
    assert "HTTP 503" in error.reason and "3 attempts" in error.reason
    assert image_server.hits["/always-503?t=bounded"] == 3


def test_short_retry_after_is_honoured(image_server):
    result = fetch_url(image_server.url + "/retry-soon?t=short", FAST)
    assert result.attempts == 2


@pytest.mark.parametrize("path", ["/retry-far?t=seconds", "/retry-far-date?t=date"])
def test_far_retry_after_fails_at_once_instead_of_waiting(image_server, path):
    error = failure(image_server.url + path)
    assert "retry after" in error.reason and "cap" in error.reason
    assert image_server.hits[path] == 1  # no second attempt, no long wait
    assert error.details["retry_after_s"] > 1000


def test_client_errors_are_not_retried(image_server):
    error = failure(image_server.url + "/missing?t=404")
    assert error.reason == "HTTP 404" and image_server.hits["/missing?t=404"] == 1


def test_content_type_is_recorded_not_trusted(image_server):
    page = fetch_url(image_server.url + "/html", FAST)
    assert page.content_type == "text/html" and page.data.startswith(b"<html>")  # the decoder refuses it
    image = fetch_url(image_server.url + "/jpeg-as-html", FAST)
    assert image.content_type == "text/html" and image.data[:2] == b"\xff\xd8"


def test_redirect_loops_and_other_schemes_say_so(image_server):
    assert failure(image_server.url + "/loop").reason == "redirect loop"
    assert "unsupported URL scheme" in failure(image_server.url + "/to-ftp").reason


def test_declared_and_actual_size_caps(image_server):
    assert "Content-Length 10000000" in failure(image_server.url + "/big-declared").reason
    assert "more than the 100000-byte cap" in failure(image_server.url + "/big-chunked").reason


def test_a_trickling_server_hits_the_deadline(image_server):
    config = FetchConfig(timeout_s=1.0, deadline_s=0.6, retries=0, max_bytes=100_000)
    assert "deadline" in failure(image_server.url + "/trickle", config).reason


def test_a_silent_server_times_out_and_is_retried_within_bounds(image_server):
    config = FetchConfig(timeout_s=0.2, deadline_s=3.0, retries=1, backoff_s=0.01, max_bytes=100_000)
    error = failure(image_server.url + "/hang?t=silent", config)
    assert "timed out" in error.reason and "2 attempts" in error.reason


def test_a_body_shorter_than_declared_is_an_error(image_server):
    config = FetchConfig(timeout_s=0.5, deadline_s=3.0, retries=0, max_bytes=100_000)
    error = failure(image_server.url + "/short-body", config)
    assert "closed" in error.reason or "connection failed" in error.reason


def test_only_http_urls_are_fetched():
    assert failure("file:///etc/passwd").reason == "unsupported URL scheme: file"
    assert failure("/etc/passwd").reason.startswith("not a URL")
    assert failure("ftp://example.com/a.jpg").reason == "unsupported URL scheme: ftp"
    assert failure("https://user:secret@example.com/a.jpg").reason.startswith("URL has credentials")


def test_nothing_listening_is_a_connection_failure():
    config = FetchConfig(timeout_s=0.5, deadline_s=2.0, retries=1, backoff_s=0.01)
    assert "connection failed" in failure("http://127.0.0.1:9/x.jpg", config).reason


def test_parse_retry_after():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now=40.0) == 60.0
