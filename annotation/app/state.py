"""What every request handler shares: config, database, file storage, the login limiter, the AMA drafter; and the
dependencies that find the logged-in user and check CSRF."""

import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from annotation.app.config import AppConfig
from annotation.app.db import transaction
from annotation.app.models import AuthSession, User
from annotation.app.security import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, LoginLimiter, now, same, token_hash
from annotation.app.storage import Storage


class ApiError(HTTPException):
    """An error the browser shows: {"error": message, "field": field}."""

    def __init__(
        self, status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status_code=status, detail={"error": message, "field": field}, headers=headers)


@dataclass
class AppState:
    config: AppConfig
    engine: Engine
    sessions: sessionmaker[Session]  # units of work that write
    readers: sessionmaker[Session]  # units of work that only read (never wait for SQLite's write lock)
    storage: Storage
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    _drafter: Any = None
    _drafter_lock: threading.Lock = field(default_factory=threading.Lock)

    def drafter(self) -> Any:
        """The AMA answer drafter, made on first use (it loads OCR and the LLM lazily too)."""
        with self._drafter_lock:
            if self._drafter is None:
                from annotation.ama.drafting import AnswerDrafter

                self._drafter = AnswerDrafter(self.config.llm)
            return self._drafter

    def close(self) -> None:
        if self._drafter is not None:
            self._drafter.close()
        self.engine.dispose()


def state(request: Request) -> AppState:
    return request.app.state.app_state


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    role: str
    csrf: str


def current_user(request: Request, app: AppState = Depends(state)) -> CurrentUser:
    """The user of a valid session cookie (401 otherwise); non-GET requests must carry the session's CSRF token."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        raise ApiError(401, "Log in first.")
    with transaction(app.readers) as db:
        found = db.execute(
            select(AuthSession, User)
            .join(User, User.id == AuthSession.user_id)
            .where(AuthSession.token_hash == token_hash(token))
        ).first()
        if found is None or found[0].expires_at < now():
            raise ApiError(401, "Your session has ended: log in again.")
        session, user = found
        user_info = CurrentUser(user.id, user.username, user.role, session.csrf)
    if request.method not in ("GET", "HEAD") and not same(request.headers.get(CSRF_HEADER, ""), user_info.csrf):
        raise ApiError(403, "Missing or wrong CSRF token: reload the page and try again.")
    return user_info


def admin_user(user: CurrentUser = Depends(current_user)) -> CurrentUser:
    if user.role != "admin":
        raise ApiError(403, "Only an admin can do this.")
    return user


def check_login_csrf(request: Request) -> None:
    """Before a session exists: the header must repeat the cookie a page set (double submit)."""
    if not same(request.headers.get(CSRF_HEADER, ""), request.cookies.get(CSRF_COOKIE, "")):
        raise ApiError(403, "Missing or wrong CSRF token: reload the page and try again.")
