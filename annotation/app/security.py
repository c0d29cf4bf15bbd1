"""Passwords (argon2), server-side sessions with random tokens, CSRF double-submit, a login rate limit."""

import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
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
    """Failed logins counted in a sliding window of `window_s`, by (user name, client address) and by client address.

    - `per_user_client` failures for one user name from one address: that address must wait before it tries that
      user name again (password guessing against one account);
    - `per_client` failures from one address, whatever the user names: that address must wait before any login
      (guessing across accounts).
    Nothing is counted by user name alone, so failures from one address never lock the user out elsewhere. A
    successful login clears only its own (user, address) count: an attacker's own account cannot reset the
    address's count.
    """

    MAX_KEYS = 10_000  # above this many counted keys, the ones with no failure in the window are dropped

    def __init__(
        self,
        per_user_client: int = 10,
        per_client: int = 30,
        window_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_user_client, self.per_client, self.window_s, self.clock = per_user_client, per_client, window_s, clock
        self.failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)  # (user, address) and ("", address)
        self.lock = threading.Lock()

    def _recent(self, key: tuple[str, str], at: float) -> deque[float]:
        times = self.failures[key]
        while times and times[0] <= at - self.window_s:
            times.popleft()
        return times

    def wait_s(self, username: str, client: str) -> float:
        """0 when this login may be tried; otherwise the seconds until the oldest counted failure leaves the window."""
        with self.lock:
            at, waits = self.clock(), [0.0]
            for key, limit in (((username, client), self.per_user_client), (("", client), self.per_client)):
                times = self._recent(key, at)
                if len(times) >= limit:
                    waits.append(times[len(times) - limit] + self.window_s - at)
            return max(waits)

    def failed(self, username: str, client: str) -> None:
        with self.lock:
            at = self.clock()
            self.failures[(username, client)].append(at)
            self.failures[("", client)].append(at)
            if len(self.failures) > self.MAX_KEYS:  # a flood of made-up user names must not grow memory forever
                for key in [k for k, times in self.failures.items() if not self._recent(k, at)]:
                    del self.failures[key]

    def succeeded(self, username: str, client: str) -> None:
        with self.lock:
            self.failures.pop((username, client), None)
