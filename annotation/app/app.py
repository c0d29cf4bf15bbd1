"""The FastAPI app: pages (static HTML from static/, which call the JSON API), the API routers, error shapes."""

import os
from collections.abc import Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import func, select
from starlette.exceptions import HTTPException as StarletteHTTPException

from annotation.app import api_admin, api_auth, api_tasks
from annotation.app.config import AppConfig
from annotation.app.db import make_engine, migrate, reader_factory, session_factory, transaction
from annotation.app.limits import BodyLimit
from annotation.app.models import AuthSession, User
from annotation.app.security import CSRF_COOKIE, SESSION_COOKIE, LoginLimiter, new_token, now, token_hash
from annotation.app.state import AppState
from annotation.app.storage import Storage

STATIC = Path(__file__).parent / "static"
PAGES = {"/login": "login.html", "/setup": "setup.html", "/tasks": "tasks.html", "/admin": "admin.html"}
SECURITY_HEADERS = {
    # Our pages load only our own scripts and styles; images and audio come from our API (or data: URIs).
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def validation_message(errors: Sequence[Any]) -> tuple[str, str | None]:
    """FastAPI's first validation error as a message people can act on, and the field it names (None when the
    body as a whole is wrong: not JSON, empty, or not a JSON object)."""
    first = errors[0] if errors else {}
    kind, loc = first.get("type", ""), [str(part) for part in first.get("loc", ())]
    if kind == "json_invalid":  # loc is ("body", character position): not a field
        reason = first.get("ctx", {}).get("error", "")
        at = f" at character {loc[1]}" if len(loc) > 1 else ""
        return f"The request body is not valid JSON ({reason}{at}).", None
    where = ".".join(loc[1:])  # loc[0] says where: body, query, path
    if not where and kind == "missing":
        return "The request body is empty: send a JSON object.", None
    if not where:
        return "The request body must be a JSON object.", None
    return f"{where}: {first.get('msg', 'invalid')}", where


def create_app(config: AppConfig) -> FastAPI:
    problems = config.validate()
    if problems:
        raise ValueError("; ".join(problems))
    os.makedirs(config.data_dir, exist_ok=True)
    engine = make_engine(config.database_url)
    migrate(engine)
    limiter = LoginLimiter(
        config.login_failures_per_user_client, config.login_failures_per_client, config.login_window_s
    )
    app_state = AppState(
        config, engine, session_factory(engine), reader_factory(engine), Storage(config.data_dir), limiter
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        app_state.close()

    app = FastAPI(title="PixMo annotation", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.app_state = app_state
    for router in (api_auth.router, api_admin.router, api_tasks.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodyLimit, config=config)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = error.detail if isinstance(error.detail, dict) else {"error": str(error.detail), "field": None}
        return JSONResponse(detail, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, error: RequestValidationError) -> JSONResponse:
        message, field = validation_message(error.errors())
        return JSONResponse({"error": message, "field": field}, 400)

    @app.middleware("http")
    async def headers(request: Request, call_next):  # noqa: ANN001, ANN202 - Starlette's middleware signature
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    def page(name: str, request: Request) -> Response:
        response = FileResponse(STATIC / name, media_type="text/html", headers={"Cache-Control": "no-store"})
        if not request.cookies.get(CSRF_COOKIE):  # the double-submit token for login and setup
            response.set_cookie(CSRF_COOKIE, new_token(), httponly=False, samesite="lax", secure=config.secure_cookies)
        return response

    def page_route(name: str):  # noqa: ANN202 - a route handler
        def handler(request: Request) -> Response:
            return page(name, request)

        return handler

    for path, name in PAGES.items():
        app.add_api_route(path, page_route(name), methods=["GET"], include_in_schema=False)

    @app.get("/task/{task_id}", include_in_schema=False)
    def task_page(task_id: str, request: Request) -> Response:
        return page("task.html", request)

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        with transaction(app_state.readers) as db:
            if not db.scalar(select(func.count()).select_from(User)):
                return RedirectResponse("/setup", status_code=303)
            token = request.cookies.get(SESSION_COOKIE, "")
            found = db.execute(
                select(AuthSession, User)
                .join(User, User.id == AuthSession.user_id)
                .where(AuthSession.token_hash == token_hash(token))
            ).first()
        if found is None or found[0].expires_at < now():
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse("/admin" if found[1].role == "admin" else "/tasks", status_code=303)

    return app
