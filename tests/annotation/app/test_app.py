"""The app as a whole: pages and where / sends each person, security headers, errors that never echo markup, and a
real restart mid-session (server stopped, a new one started on the same database) that loses nothing."""

from pathlib import Path

import httpx

from tests.annotation.app.api_client import call, login, points_body, running, set_up, tasks_of


def test_pages_headers_and_errors(tmp_path: Path) -> None:
    with running(tmp_path) as base:
        fresh = httpx.Client(base_url=base)
        assert fresh.get("/").headers["location"] == "/setup"  # no users yet
        set_up(base, annotators=("ana",))
        assert fresh.get("/").headers["location"] == "/login"
        assert login(base, "admin").client.get("/").headers["location"] == "/admin"
        assert login(base, "ana").client.get("/").headers["location"] == "/tasks"
        for path in ("/login", "/setup", "/tasks", "/admin", "/task/abc"):
            page = fresh.get(path)
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert "default-src 'self'" in page.headers["content-security-policy"]
            assert page.headers["x-content-type-options"] == "nosniff"
        page = fresh.get("/task/<script>alert(1)</script>")  # the page is static: nothing from the URL is echoed
        assert "<script>alert(1)</script>" not in page.text and "alert(1)" not in page.text
        assert "pixmo_csrf" in fresh.get("/login").cookies or fresh.cookies.get("pixmo_csrf")
        for path in ("/api/nothing-here/<b>x</b>", "/api/tasks/<img src=x onerror=alert(1)>"):
            error = login(base, "ana").client.get(path)
            assert error.status_code == 404 and error.headers["content-type"] == "application/json"
            assert "<" not in error.json()["error"]
        bad_json = call(
            login(base, "ana"),
            "POST",
            "/api/tasks/x/points",
            content=b"<html>",
            headers={"content-type": "application/json"},
        )
        assert bad_json.status_code == 400 and bad_json.headers["content-type"] == "application/json"


def test_a_restart_mid_session_keeps_the_session_and_the_work(tmp_path: Path) -> None:
    with running(tmp_path) as base:
        set_up(base, annotators=("ana",), task_types=("points",))
        ana = login(base, "ana")
        task_id = tasks_of(ana, "points")[0]["task_id"]
        before = points_body("before the restart")
        ana.call("POST", f"/api/tasks/{task_id}/points", json=before)
        cookies = dict(ana.client.cookies)
    # The server is stopped; a new process (here: a new server on the same data folder) starts.
    with running(tmp_path) as base:
        ana.client = httpx.Client(base_url=base, cookies=cookies)  # the same browser: the same cookies
        assert ana.call("GET", "/api/me")["username"] == "ana"
        after = points_body("after the restart")
        path = f"/api/tasks/{task_id}/points"
        assert ana.call("POST", path, json=before)["label"] == "before the restart"  # a retry from before: no copy
        ana.call("POST", path, json=after)
        labels = [a["label"] for a in ana.call("GET", f"/api/tasks/{task_id}")["annotations"]]
        assert labels == ["before the restart", "after the restart"]
