"""What a URL list line may be, and how URLs with credentials are shown."""

from media.urls import host_of, redact, url_problem


def test_web_and_object_store_urls_pass():
    assert url_problem("https://example.com/a.jpg") is None
    assert url_problem("http://127.0.0.1:8000/x?y=1") is None
    assert url_problem("gs://bucket/a.jpg", object_schemes={"gs"}) is None


def test_everything_else_is_refused_with_a_reason():
    assert url_problem("/etc/passwd").startswith("not a URL")
    assert url_problem("images/a.jpg").startswith("not a URL")
    assert url_problem("C:\\images\\a.jpg").startswith("not a URL")
    assert url_problem("ftp://example.com/a.jpg") == "unsupported URL scheme: ftp"
    assert url_problem("file:///etc/passwd") == "unsupported URL scheme: file"
    assert url_problem("gs://bucket/a.jpg") == "unsupported URL scheme: gs"  # no filesystem for it given
    assert url_problem("https://a b.com/x").startswith("not a URL")
    assert url_problem("https:///nohost").startswith("not a URL")
    assert url_problem("https://me:pw@example.com/a.jpg").startswith("URL has credentials")
    assert url_problem("https://token@example.com/a.jpg").startswith("URL has credentials")


def test_credentials_are_masked_and_hosts_found():
    assert redact("https://me:pw@example.com/a.jpg?x=1") == "https://***@example.com/a.jpg?x=1"
    assert redact("https://example.com/a.jpg") == "https://example.com/a.jpg"
    assert host_of("https://Example.com:8080/a.jpg") == "example.com" and host_of("/local/path") == ""
