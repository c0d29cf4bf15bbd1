"""Passwords (argon2), server-side sessions with random tokens, CSRF double-submit, a login rate limit."""

import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

SESSION_COOKIE = "pixmo_session"
CSRF_COOKIE = "pixmo_csrf"
CSRF_HEADER = "X-CSRF-Token"
ROLES = ("admin", "annotator")
MIN_PASSWORD = 8

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Sessions are stored by the hash of their token: a leaked database holds no usable cookie."""
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a, b)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def expiry(days: int) -> datetime:
    return now() + timedelta(days=days)


class LoginLimiter:
    """At most `limit` failed logins per user name per `window_s`: slows password guessing to a crawl."""

    def __init__(self, limit: int = 10, window_s: float = 300.0) -> None:
        self.limit, self.window_s = limit, window_s
        self.failures: dict[str, deque[float]] = defaultdict(deque)
        self.lock = threading.Lock()

    def blocked(self, username: str) -> bool:
        with self.lock:
            times = self.failures[username]
            while times and times[0] < time.monotonic() - self.window_s:
                times.popleft()
            return len(times) >= self.limit

    def failed(self, username: str) -> None:
        with self.lock:
            self.failures[username].append(time.monotonic())

    def succeeded(self, username: str) -> None:
        with self.lock:
            self.failures.pop(username, None)
