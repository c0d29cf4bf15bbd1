"""Download one image over HTTP(S), img2dataset style: timeouts, bounded retries, a size cap, content checks.

Every way a download can go wrong ends in a `MediaError` with a reason; nothing here waits without a bound:
- each socket operation has `timeout_s`, and the whole download (all attempts, waits included) has
  `deadline_s`, so a server that trickles one byte a second cannot hold a worker;
- retries (429, 5xx, connection errors, timeouts) are bounded, with exponential backoff;
- a server's Retry-After is honoured only up to `max_retry_after_s`: a larger one (molmo issue #39, where one
  far-future Retry-After hung a whole download) fails the image at once instead of waiting;
- the body is capped at `max_bytes` (Content-Length is checked first, then the bytes actually read);
- the Content-Type is recorded but never trusted: servers label images text/html or octet-stream, so the
  decoder judges the bytes;
- a redirect loop, an unsupported scheme, credentials in the URL are refused with that reason.
"""

import email.utils
import http.client
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from media.errors import MediaError
from media.urls import url_problem

RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchConfig:
    timeout_s: float = 10.0  # per socket operation (connect, each read)
    deadline_s: float = 60.0  # the whole download, retries and waits included
    retries: int = 2  # extra attempts after the first
    backoff_s: float = 1.0  # first wait; doubles each retry
    max_retry_after_s: float = 30.0
    max_bytes: int = 32 * 1024 * 1024
    user_agent: str = "pixmo-pipeline/0.1 (+https://github.com/allenai/molmo; image dataset builder)"

    def validate(self) -> list[str]:
        problems = []
        if self.timeout_s <= 0 or self.deadline_s <= 0:
            problems.append("download timeouts must be positive")
        if self.retries < 0:
            problems.append("download retries must be 0 or more")
        if self.max_bytes < 1:
            problems.append("the download size cap must be at least 1 byte")
        if self.max_retry_after_s < 0 or self.backoff_s < 0:
            problems.append("download waits must be 0 or more")
        return problems


@dataclass(frozen=True)
class FetchResult:
    data: bytes
    final_url: str
    content_type: str
    attempts: int


class _Retryable(Exception):
    """A failure worth another attempt; `wait_s` is the server's Retry-After when it gave one."""

    def __init__(self, reason: str, wait_s: float | None = None, **details: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait_s = wait_s
        self.details = details


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def fetch_url(url: str, config: FetchConfig = FetchConfig()) -> FetchResult:
    """The body of `url`, or a MediaError saying why not."""
    problem = url_problem(url)
    if problem is not None:
        raise MediaError(problem)
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            return _attempt(url, config, started, attempt)
        except _Retryable as failure:
            if attempt > config.retries:
                raise MediaError(
                    f"{failure.reason} (gave up after {attempt} attempts)", attempts=attempt, **failure.details
                ) from None
            if failure.wait_s is not None and failure.wait_s > config.max_retry_after_s:
                raise MediaError(
                    f"{failure.reason}; server asked to retry after {failure.wait_s:.0f}s, "
                    f"more than the {config.max_retry_after_s:.0f}s cap",
                    attempts=attempt,
                    retry_after_s=failure.wait_s,
                ) from None
            wait = failure.wait_s if failure.wait_s is not None else config.backoff_s * 2 ** (attempt - 1)
            if time.monotonic() - started + wait > config.deadline_s:
                raise MediaError(
                    f"{failure.reason}; no time left for a retry within the {config.deadline_s:.0f}s deadline",
                    attempts=attempt,
                ) from None
            time.sleep(wait)


def _web_opener() -> urllib.request.OpenerDirector:
    """urllib's opener with the web handlers only: a redirect to ftp:// or file:// goes nowhere."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.UnknownHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


_OPENER = _web_opener()


def _attempt(url: str, config: FetchConfig, started: float, attempt: int) -> FetchResult:
    request = urllib.request.Request(url, headers={"User-Agent": config.user_agent, "Accept": "image/*"})
    remaining = config.deadline_s - (time.monotonic() - started)
    if remaining <= 0:
        raise MediaError(f"download took longer than the {config.deadline_s:.0f}s deadline", attempts=attempt)
    try:
        with _OPENER.open(request, timeout=min(config.timeout_s, remaining)) as response:
            content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > config.max_bytes:
                raise MediaError(
                    f"too large: Content-Length {int(length)} bytes > cap {config.max_bytes}", bytes=int(length)
                )
            data = _read_capped(response, config, started)
            if length and length.isdigit() and len(data) < int(length):
                raise _Retryable(f"connection closed after {len(data)} of {length} bytes")
            return FetchResult(data, response.geturl(), content_type, attempt)
    except urllib.error.HTTPError as error:
        if 300 <= error.code < 400:  # urllib follows redirects itself; one that comes back here loops or has no target
            reason = "redirect loop" if "infinite loop" in str(error.msg) else f"redirect failed (HTTP {error.code})"
            raise MediaError(reason, status=error.code) from None
        wait = parse_retry_after(error.headers.get("Retry-After") if error.headers else None)
        if error.code in RETRYABLE_STATUS:
            raise _Retryable(f"HTTP {error.code}", wait_s=wait, status=error.code) from None
        raise MediaError(f"HTTP {error.code}", status=error.code) from None
    except MediaError:
        raise
    except _Retryable:
        raise
    except TimeoutError:
        raise _Retryable(f"timed out (no data for {config.timeout_s:.0f}s)") from None
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError | socket.timeout):
            raise _Retryable(f"timed out connecting ({config.timeout_s:.0f}s)") from None
        if isinstance(reason, str) and reason.startswith("unknown url type"):
            raise MediaError(f"unsupported URL scheme in a redirect: {reason}") from None
        raise _Retryable(f"connection failed: {reason}") from None
    except (http.client.HTTPException, ConnectionError, OSError) as error:
        raise _Retryable(f"connection failed: {type(error).__name__}: {error}") from None


def _read_capped(response: http.client.HTTPResponse, config: FetchConfig, started: float) -> bytes:
    chunks, size = [], 0
    while True:
        if time.monotonic() - started > config.deadline_s:
            raise MediaError(
                f"download took longer than the {config.deadline_s:.0f}s deadline (slow server)", bytes_read=size
            )
        chunk = response.read1(CHUNK) if hasattr(response, "read1") else response.read(CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > config.max_bytes:
            raise MediaError(f"too large: more than the {config.max_bytes}-byte cap", bytes_read=size)
        chunks.append(chunk)
