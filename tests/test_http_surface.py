"""The HTTP surface: health, security headers, pages, and errors that never leak a traceback."""

from __future__ import annotations

import json

import pytest

from tests.conftest import CapturedLog, Harness


async def test_healthz_and_readyz(harness: Harness) -> None:
    """/healthz says the process is up; /readyz that the database answers."""
    client = await harness.console()
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["database"] == "ok"


async def test_readyz_fails_when_the_database_is_gone(harness: Harness) -> None:
    """/readyz answers 503 once the store is closed."""
    client = await harness.console()
    await harness.helpline.store.close()
    assert (await client.get("/readyz")).status == 503


@pytest.mark.parametrize("path", ["/login", "/console", "/api/queue", "/healthz", "/static/console.css", "/nope"])
async def test_security_headers_on_every_response(harness: Harness, path: str) -> None:
    """Every response carries the strict CSP and friends, whatever its status."""
    client = await harness.console()
    response = await client.get(path)
    csp = response.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ):
        assert directive in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # only under TLS


async def test_unknown_route_is_a_json_404(harness: Harness) -> None:
    """An unknown path is a clear JSON 404 with a request id."""
    client = await harness.console()
    response = await client.get("/no/such/page")
    assert response.status == 404
    body = await response.json()
    assert body["error"] and body["request_id"] == response.headers["X-Request-Id"]


async def test_wrong_method_is_a_json_405(harness: Harness) -> None:
    """GET on a POST-only endpoint is a 405 with a clear message."""
    client = await harness.console()
    response = await client.get("/api/login")
    assert response.status == 405
    assert "not allowed" in (await response.json())["error"]


async def test_pages_have_no_inline_script(harness: Harness) -> None:
    """The console's pages load scripts from files only, so the CSP holds."""
    client = await harness.console()
    for path in ("/login", "/console", "/console/conversations/abcdefghijklmnop"):
        html = await (await client.get(path)).text()
        assert "<script>" not in html.replace(" ", "")
        assert " on" not in html.split("<body", 1)[1].split(">", 1)[0]
        assert "style=" not in html


async def test_every_console_page_carries_the_shared_header_once(harness: Harness) -> None:
    """The signed-in pages are put together with the shared head and header; no include line is left in."""
    client = await harness.console()
    paths = ["/console", "/console/conversations/abcdefghijklmnop", "/console/records/abcdefghijklmnop"]
    paths += ["/console/totp", "/console/floor", "/console/admin", "/console/escalations"]
    for path in paths:
        response = await client.get(path)
        assert response.status == 200 and response.content_type == "text/html" and response.charset == "utf-8"
        html = await response.text()
        assert html.count('<header class="site-header">') == 1 and html.count('id="sign-out"') == 1, path
        assert html.count('href="/static/console.css"') == 1 and html.count('src="/static/page.js"') == 1, path
        assert "<!-- include" not in html, path
    login = await (await client.get("/login")).text()
    assert "site-header" not in login


async def test_access_log_has_no_client_address_or_user_agent(harness: Harness, captured_log: CapturedLog) -> None:
    """The request log line names the route pattern, not the path, address or user agent."""
    client = await harness.console()
    await client.client.get("/api/conversations/SECRETPATHID123456", headers={"User-Agent": "CanaryAgent/1.0"})
    [line] = [json.loads(line) for line in captured_log.lines if "http.request" in line]
    assert line["route"] == "/api/conversations/{conversation_id}"
    assert "SECRETPATHID" not in captured_log.text and "CanaryAgent" not in captured_log.text
    assert "127.0.0.1" not in captured_log.text


async def test_login_form_posts_do_not_work(harness: Harness) -> None:
    """Sign-in accepts JSON only, so a cross-site HTML form cannot sign someone in."""
    client = await harness.console()
    response = await client.client.post("/api/login", data={"username": "a", "password": "b"})
    assert response.status == 400


async def test_metrics_count_without_identifiers(harness: Harness) -> None:
    """/metrics reports counts in Prometheus text format and nothing that identifies anyone."""
    client = await harness.console("amira")
    await harness.text("+447700900123", "CANARYMETRIC hello")
    response = await client.get("/metrics")
    assert response.status == 200
    text = await response.text()
    assert 'helpline_events_total{event="conversation.opened"} 1' in text
    assert "helpline_waiting_conversations 1" in text
    assert "# TYPE helpline_store_commits_total counter\nhelpline_store_commits_total " in text
    assert "# TYPE helpline_console_sockets gauge\nhelpline_console_sockets " in text
    assert "447700900123" not in text and "CANARYMETRIC" not in text
