"""Accounts and sessions against a real server: first-run setup, hashed passwords, login/logout, the rate limit,
and CSRF double-submit."""

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from annotation.app.screenshots import ApiSession
from tests.annotation.app.api_client import call, login, password, points_body, running, set_up, tasks_of


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("auth")


@pytest.fixture(scope="module")
def base(data_dir: Path) -> Iterator[str]:
    with running(data_dir) as url:
        set_up(url, task_types=("points",))
        yield url


def test_setup_works_once(base: str) -> None:
    again = call(ApiSession(base), "POST", "/api/setup", json={"username": "eve", "password": "long-enough"})
    assert again.status_code == 409 and "already set up" in again.json()["error"]


def test_no_password_or_session_token_is_stored_in_plain(base: str, data_dir: Path) -> None:
    ana = login(base, "ana")
    token = ana.client.cookies["pixmo_session"]
    database = (data_dir / "annotation.db").read_bytes() + (data_dir / "annotation.db-wal").read_bytes()
    assert password("ana").encode() not in database and password("admin").encode() not in database
    assert token.encode() not in database
    rows = sqlite3.connect(data_dir / "annotation.db").execute("select username, password_hash from users").fetchall()
    assert {name for name, _ in rows} == {"admin", "ana", "bob"} and all(h.startswith("$argon2") for _, h in rows)


def test_login_me_and_logout(base: str) -> None:
    ana = login(base, "ana")
    assert ana.call("GET", "/api/me") == {"username": "ana", "role": "annotator"}
    assert call(ApiSession(base), "GET", "/api/tasks").status_code == 401
    wrong = call(ApiSession(base), "POST", "/api/login", json={"username": "ana", "password": "not-her-password"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "Wrong user name or password."
    cookies = dict(ana.client.cookies)
    assert call(ana, "POST", "/api/logout").status_code == 200
    replayed = httpx.Client(base_url=base, cookies=cookies)  # the old cookie is dead on the server too
    assert replayed.get("/api/me").status_code == 401


def session_from(base: str, address: str) -> ApiSession:
    """A browser session whose connections come from this loopback address (all of 127.0.0.0/8 is this machine)."""
    session = ApiSession(base)
    session.client = httpx.Client(base_url=base, timeout=120, transport=httpx.HTTPTransport(local_address=address))
    session.client.get("/login")
    return session


def try_login(session: ApiSession, name: str, secret: str) -> httpx.Response:
    return call(session, "POST", "/api/login", json={"username": name, "password": secret})


def test_failed_logins_from_one_address_do_not_lock_the_user_out_elsewhere(base: str) -> None:
    admin = login(base, "admin")
    admin.call("POST", "/api/admin/users", json={"username": "victim", "password": password("victim")})
    attacker = session_from(base, "127.0.0.2")
    statuses = [try_login(attacker, "victim", f"guess-{i}").status_code for i in range(11)]
    assert statuses == [401] * 10 + [429]
    refused = try_login(attacker, "victim", password("victim"))  # from there even the right password waits now
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "try again in" in refused.json()["error"]
    victim = session_from(base, "127.0.0.3")  # the victim, at their own computer, logs in as usual
    assert try_login(victim, "victim", password("victim")).status_code == 200
    assert victim.call("GET", "/api/me")["username"] == "victim"
    assert login(base, "bob").call("GET", "/api/me")["username"] == "bob"


def test_guessing_across_user_names_from_one_address_is_throttled(base: str) -> None:
    sprayer = session_from(base, "127.0.0.4")
    names = [f"user{i}" for i in range(30)]  # never more than 10 failures per name: the per-address limit holds
    statuses = [try_login(sprayer, name, "Winter2024!").status_code for name in names]
    assert statuses == [401] * 30
    assert try_login(sprayer, "ana", password("ana")).status_code == 429  # every login from there waits
    assert try_login(session_from(base, "127.0.0.5"), "ana", password("ana")).status_code == 200


def test_changes_need_the_sessions_csrf_token(base: str) -> None:
    ana, bob = login(base, "ana"), login(base, "bob")
    task_id = tasks_of(ana, "points")[0]["task_id"]
    path = f"/api/tasks/{task_id}/points"
    missing = ana.client.post(path, json=points_body())
    assert missing.status_code == 403 and "CSRF" in missing.json()["error"]
    wrong = ana.client.post(path, json=points_body(), headers={"X-CSRF-Token": "made-up"})
    assert wrong.status_code == 403
    bobs = ana.client.post(path, json=points_body(), headers={"X-CSRF-Token": bob.client.cookies["pixmo_csrf"]})
    assert bobs.status_code == 403  # another session's token
    assert call(ana, "POST", path, json=points_body()).status_code == 200
    bare = httpx.Client(base_url=base)  # no page visited: no CSRF cookie to repeat
    refused = bare.post("/api/login", json={"username": "ana", "password": password("ana")})
    assert refused.status_code == 403 and "pixmo_session" not in refused.cookies
