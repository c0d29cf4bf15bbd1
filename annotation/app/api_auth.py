"""First-run setup, log in, log out, who am I."""

import math

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from annotation.app.db import transaction
from annotation.app.models import AuthSession, User
from annotation.app.security import (
    CSRF_COOKIE,
    MIN_PASSWORD,
    SESSION_COOKIE,
    check_password,
    expiry,
    hash_password,
    new_token,
    now,
    token_hash,
)
from annotation.app.state import ApiError, AppState, CurrentUser, check_login_csrf, current_user, state

router = APIRouter()


class Credentials(BaseModel):
    username: str
    password: str


def check_new_user(username: str, password: str) -> str:
    name = username.strip()
    if not 1 <= len(name) <= 64 or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ApiError(400, "User names are 1-64 letters, digits, '.', '-' or '_'.", "username")
    if not MIN_PASSWORD <= len(password) <= 256:
        raise ApiError(400, f"Passwords need {MIN_PASSWORD}-256 characters.", "password")
    return name


def start_session(app: AppState, response: Response, user: User) -> dict[str, str]:
    token, csrf = new_token(), new_token()
    with transaction(app.sessions) as db:
        db.add(
            AuthSession(
                token_hash=token_hash(token), user_id=user.id, csrf=csrf, expires_at=expiry(app.config.session_days)
            )
        )
    max_age = app.config.session_days * 86400
    secure = app.config.secure_cookies
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax", secure=secure)
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, samesite="lax", secure=secure)
    return {"username": user.username, "role": user.role}


@router.post("/api/setup", dependencies=[Depends(check_login_csrf)])
def setup(body: Credentials, response: Response, app: AppState = Depends(state)) -> dict[str, str]:
    """Create the first admin; refused once any user exists."""
    name = check_new_user(body.username, body.password)
    with transaction(app.sessions) as db:
        if db.scalar(select(func.count()).select_from(User)):
            raise ApiError(409, "This app is already set up: ask an admin for an account.")
        user = User(username=name, password_hash=hash_password(body.password), role="admin", created_at=now())
        db.add(user)
    return start_session(app, response, user)


def client_address(request: Request) -> str:
    """The caller's address; behind a reverse proxy uvicorn takes it from X-Forwarded-For (see API.md)."""
    return request.client.host if request.client else "unknown"


@router.post("/api/login", dependencies=[Depends(check_login_csrf)])
def login(body: Credentials, request: Request, response: Response, app: AppState = Depends(state)) -> dict[str, str]:
    name, client = body.username.strip(), client_address(request)
    wait = math.ceil(app.limiter.wait_s(name, client))
    if wait > 0:
        message = f"Too many failed logins from this computer: try again in {wait} s."
        raise ApiError(429, message, headers={"Retry-After": str(wait)})
    with transaction(app.readers) as db:
        user = db.scalar(select(User).where(User.username == name))
    if user is None or not check_password(user.password_hash, body.password):
        app.limiter.failed(name, client)
        raise ApiError(401, "Wrong user name or password.")
    app.limiter.succeeded(name, client)
    return start_session(app, response, user)


@router.post("/api/logout")
def logout(
    request: Request, response: Response, user: CurrentUser = Depends(current_user), app: AppState = Depends(state)
) -> dict[str, bool]:
    with transaction(app.sessions) as db:
        session = db.get(AuthSession, token_hash(request.cookies.get(SESSION_COOKIE, "")))
        if session is not None:
            db.delete(session)
    response.delete_cookie(SESSION_COOKIE)
    return {"ok": True}


@router.get("/api/me")
def me(user: CurrentUser = Depends(current_user)) -> dict[str, str]:
    return {"username": user.username, "role": user.role}


def create_user(app: AppState, username: str, password: str, role: str) -> User:
    """Used by the admin API and the CLI."""
    if role not in ("admin", "annotator"):
        raise ApiError(400, "role must be admin or annotator", "role")
    name = check_new_user(username, password)
    try:
        with transaction(app.sessions) as db:
            user = User(username=name, password_hash=hash_password(password), role=role, created_at=now())
            db.add(user)
    except IntegrityError:
        raise ApiError(409, f"The user name {name!r} is taken.", "username") from None
    return user
