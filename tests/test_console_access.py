"""Who may do what in the console: sessions, CSRF, roles, timeouts."""

from __future__ import annotations

from tests.conftest import PASSWORD, Harness


async def test_no_session_is_401(harness: Harness) -> None:
    """The API answers 401 with a clear message to a request without a session."""
    anonymous = await harness.console()
    for path in ("/api/queue", "/api/session", "/api/conversations/abcdefghijklmnop"):
        response = await anonymous.get(path)
        assert response.status == 401
        assert (await response.json())["error"] == "Please sign in."


async def test_post_without_csrf_token_is_403(harness: Harness) -> None:
    """A state-changing request without the CSRF token is refused and changes nothing."""
    await harness.text("+447700900123", "hello")
    amira = await harness.console("amira")
    [waiting] = await amira.queue()
    response = await amira.client.post(f"/api/conversations/{waiting['id']}/claim", json={})
    assert response.status == 403
    assert "CSRF" in (await response.json())["error"]
    assert [c["status"] for c in await amira.queue()] == ["waiting"]


async def test_wrong_password_is_401(harness: Harness) -> None:
    """A wrong password, an unknown user, and a right password all look different only in outcome."""
    await harness.helpline.accounts.add_user("amira", "volunteer", PASSWORD)
    console = await harness.console()
    wrong = await console.login("amira", "not the password")
    unknown = await console.login("nobody", PASSWORD)
    assert wrong.status == unknown.status == 401
    assert (await wrong.json())["error"] == (await unknown.json())["error"] == "Wrong username or password."
    assert (await console.login("amira")).status == 200


async def test_volunteer_cannot_read_someone_elses_conversation(harness: Harness) -> None:
    """A waiting conversation is readable by any volunteer; once claimed, only by its holder."""
    await harness.text("+447700900123", "private")
    amira = await harness.console("amira")
    ben = await harness.console("ben")
    [waiting] = await amira.queue()
    assert (await ben.get(f"/api/conversations/{waiting['id']}")).status == 200
    await amira.post(f"/api/conversations/{waiting['id']}/claim")
    refused = await ben.get(f"/api/conversations/{waiting['id']}")
    assert refused.status == 403
    assert "private" not in await refused.text()
    assert (await ben.post(f"/api/conversations/{waiting['id']}/messages", {"body": "hi"})).status == 403


async def test_supervisor_reads_any_conversation_and_is_audited(harness: Harness) -> None:
    """A supervisor may read a conversation someone else holds; the read is on the audit log."""
    await harness.text("+447700900123", "hello")
    amira = await harness.console("amira")
    sam = await harness.console("sam", role="supervisor")
    [waiting] = await amira.queue()
    await amira.post(f"/api/conversations/{waiting['id']}/claim")
    assert (await sam.conversation(waiting["id"]))["assignee"] == "amira"
    assert harness.rows("SELECT COUNT(*) FROM audit WHERE action = 'conversation.viewed'") == [(1,)]


async def test_unknown_conversation_is_404(harness: Harness) -> None:
    """An id that names nothing, or is not an id at all, is a 404."""
    amira = await harness.console("amira")
    assert (await amira.get("/api/conversations/abcdefghijklmnopqrstuv")).status == 404
    assert (await amira.get("/api/conversations/..%2f..%2fetc")).status == 404


async def test_reply_needs_a_claim(harness: Harness) -> None:
    """Replying to a waiting conversation without claiming it is refused and queues nothing."""
    await harness.text("+447700900123", "hello")
    amira = await harness.console("amira")
    [waiting] = await amira.queue()
    response = await amira.post(f"/api/conversations/{waiting['id']}/messages", {"body": "hi"})
    assert response.status == 409
    assert "Claim" in (await response.json())["error"]
    assert harness.rows("SELECT COUNT(*) FROM messages WHERE author_id IS NOT NULL") == [(0,)]


async def test_bad_reply_bodies(harness: Harness) -> None:
    """Empty, too long, non-text or non-JSON replies get a clear 400 and queue nothing."""
    await harness.text("+447700900123", "hello")
    amira = await harness.console("amira")
    [waiting] = await amira.queue()
    path = f"/api/conversations/{waiting['id']}/messages"
    await amira.post(f"/api/conversations/{waiting['id']}/claim")
    too_long = "x" * (harness.settings.console.max_reply_chars + 1)
    for payload in ({"body": "   "}, {"body": too_long}, {"body": 42}, {}):
        response = await amira.post(path, payload)
        assert response.status == 400, payload
        assert (await response.json())["error"]
    raw = await amira.client.post(
        path, data=b"{not json", headers={"X-CSRF-Token": amira.csrf, "Content-Type": "application/json"}
    )
    assert raw.status == 400
    assert (await raw.json())["error"] == "The request body is not valid JSON."
    assert harness.rows("SELECT COUNT(*) FROM messages WHERE author_id IS NOT NULL") == [(0,)]


async def test_close_needs_a_known_outcome(harness: Harness) -> None:
    """Closing with an outcome that is not configured is refused; the conversation stays open."""
    await harness.text("+447700900123", "hello")
    amira = await harness.console("amira")
    [waiting] = await amira.queue()
    await amira.post(f"/api/conversations/{waiting['id']}/claim")
    response = await amira.post(f"/api/conversations/{waiting['id']}/close", {"outcome": "made-up"})
    assert response.status == 400
    assert (await amira.conversation(waiting["id"]))["status"] == "active"
    second = await amira.post(f"/api/conversations/{waiting['id']}/close", {"outcome": "advice"})
    assert second.status == 200
    again = await amira.post(f"/api/conversations/{waiting['id']}/close", {"outcome": "advice"})
    assert again.status == 409


async def test_session_ends_when_idle(harness: Harness) -> None:
    """After the idle timeout, the session no longer works."""
    amira = await harness.console("amira")
    assert (await amira.get("/api/queue")).status == 200
    harness.clock.advance(minutes=harness.settings.auth.session_idle_minutes + 1)
    response = await amira.get("/api/queue")
    assert response.status == 401
    assert "ended" in (await response.json())["error"]


async def test_session_ends_after_absolute_limit_despite_use(harness: Harness) -> None:
    """Even a session in constant use ends at the absolute limit."""
    amira = await harness.console("amira")
    minutes = 0
    while (await amira.get("/api/queue")).status == 200:
        assert minutes <= harness.settings.auth.session_absolute_hours * 60, "the session never ended"
        harness.clock.advance(minutes=20)
        minutes += 20
    assert minutes > harness.settings.auth.session_absolute_hours * 60 - 20


async def test_logout_ends_the_session_and_clears_site_data(harness: Harness) -> None:
    """Logging out deletes the server-side session and tells the browser to clear its data."""
    amira = await harness.console("amira")
    cookie = amira.client.session.cookie_jar.filter_cookies(amira.client.make_url("/"))["helpline_session"].value
    response = await amira.post("/api/logout")
    assert response.status == 200
    assert "cookies" in response.headers["Clear-Site-Data"]
    assert harness.rows("SELECT COUNT(*) FROM sessions") == [(0,)]
    replay = await amira.client.get("/api/queue", cookies={"helpline_session": cookie})
    assert replay.status == 401


async def test_login_sets_a_strict_httponly_cookie_and_rotates_it(harness: Harness) -> None:
    """The session cookie is HttpOnly and SameSite=Strict, and signing in again replaces the old session."""
    await harness.helpline.accounts.add_user("amira", "volunteer", PASSWORD)
    console = await harness.console()
    first = await console.login("amira")
    header = first.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Strict" in header
    second = await console.login("amira")
    assert second.headers["Set-Cookie"] != header
    assert harness.rows("SELECT COUNT(*) FROM sessions") == [(1,)]


async def test_session_token_is_not_stored(harness: Harness) -> None:
    """The database holds only a hash of the session token."""
    amira = await harness.console("amira")
    token = amira.client.session.cookie_jar.filter_cookies(amira.client.make_url("/"))["helpline_session"].value
    raw = harness.db.stored_bytes()
    assert token.encode() not in raw
