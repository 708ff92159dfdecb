"""The chat without JavaScript, and the chat's pages: plain forms, the token only in the page, no traces."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import ClientResponse

from helpline.settings import Settings
from tests.conftest import Console, Harness

HOST = "https://www.charity.example"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace("webchat", frame_ancestors=(HOST,), exit_url="https://www.bbc.co.uk/weather")


def hidden(html: str, name: str) -> str:
    """The value of the first hidden field called ``name`` in a page."""
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', html)
    assert match, f"no hidden {name} field"
    return match.group(1)


async def post(client: Console, path: str, form: dict[str, str]) -> tuple[ClientResponse, str]:
    response = await client.client.post(
        path, data=form, headers={"Sec-Fetch-Site": "same-origin"}, allow_redirects=False
    )
    return response, await response.text()


def assert_no_traces(response: ClientResponse) -> None:
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "same-origin"


async def test_chat_page_is_neutral_accessible_and_leaves_no_traces(harness: Harness) -> None:
    """/chat: no cookie, not cached, no referrer, not frameable, a neutral title, an accessible transcript."""
    client = await harness.console()
    response = await client.get("/chat")
    html = await response.text()
    assert response.status == 200
    assert_no_traces(response)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "<title>Chat</title>" in html
    assert 'role="log" aria-live="polite"' in html
    assert "<script>" not in html and "style=" not in html
    assert hidden(html, "token") == ""


async def test_widget_iframe_page_may_be_framed_only_by_configured_hosts(harness: Harness) -> None:
    """/chat/frame allows the configured host origins as frame ancestors, and nothing else does."""
    client = await harness.console()
    framed = await client.get("/chat/frame")
    assert f"frame-ancestors {HOST};" in framed.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in framed.headers
    assert "X-Frame-Options" in (await client.get("/console")).headers


async def test_widget_script_is_configured_and_loadable_from_other_sites(harness: Harness) -> None:
    """/widget.js names the helpline's origin and exit site, and may be loaded cross-origin."""
    client = await harness.console()
    response = await client.get("/widget.js")
    script = await response.text()
    assert response.headers["Content-Type"].startswith("application/javascript")
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert harness.settings.server.public_url in script and "https://www.bbc.co.uk/weather" in script
    assert "__HELPLINE_CONFIG__" not in script
    assert "document.cookie" not in script


async def test_chat_without_javascript_from_start_to_end(harness: Harness) -> None:
    """Send, read a reply with "Check for replies", and end: the token only ever in hidden fields."""
    contact = await harness.console()
    page = await (await contact.get("/chat")).text()
    response, page = await post(
        contact, "/chat/send", {"token": "", "message_id": hidden(page, "message_id"), "body": "Hello from Tor"}
    )
    assert response.status == 200
    assert_no_traces(response)
    token = hidden(page, "token")
    assert token and "Hello from Tor" in page
    assert token not in str(response.url) and "token" not in str(response.url)
    assert "You are next in the queue" in page

    volunteer = await harness.console("amira")
    [waiting] = await volunteer.queue()
    await volunteer.post(f"/api/conversations/{waiting['id']}/claim")
    await volunteer.post(f"/api/conversations/{waiting['id']}/messages", {"body": "Hello, I'm Amira"})
    await harness.send_outbox()

    response, page = await post(contact, "/chat/refresh", {"token": token})
    assert "Hello, I&#x27;m Amira" in page and "A volunteer is with you." in page

    response, page = await post(contact, "/chat/end", {"token": token})
    assert "The chat has ended" in page and "Hello from Tor" not in page
    assert token not in page
    shown = await volunteer.conversation(waiting["id"])
    assert shown["contact_left"] is True


async def test_resubmitted_form_is_stored_once(harness: Harness) -> None:
    """The same send form posted twice (a reload that resubmits it) stores the message once."""
    contact = await harness.console()
    form = {"token": "", "message_id": "form-message-0001", "body": "Just once"}
    _, page = await post(contact, "/chat/send", form)
    token = hidden(page, "token")
    _, page = await post(contact, "/chat/send", {**form, "token": token})
    assert page.count("Just once") == 1
    assert harness.rows("SELECT COUNT(*) FROM messages WHERE direction = 'in'") == [(1,)]


async def test_refused_message_keeps_the_draft(harness: Harness) -> None:
    """An over-long message is refused with a clear message and the text stays in the box."""
    contact = await harness.console()
    draft = "long " * 500
    response, page = await post(contact, "/chat/send", {"token": "", "message_id": "form-message-0002", "body": draft})
    assert response.status == 400
    assert "Your message is too long" in page
    assert draft.strip() in page
    assert harness.rows("SELECT COUNT(*) FROM messages") == [(0,)]


async def test_quick_exit_form_ends_the_chat_and_leaves(harness: Harness) -> None:
    """The exit form ends the chat and redirects to the exit site; a beacon gets 204."""
    contact = await harness.console()
    _, page = await post(contact, "/chat/send", {"token": "", "message_id": "form-message-0003", "body": "help"})
    token = hidden(page, "token")
    response, _ = await post(contact, "/chat/exit", {"token": token})
    assert response.status == 303
    assert response.headers["Location"] == "https://www.bbc.co.uk/weather"
    assert harness.rows("SELECT contact_left_reason FROM conversations") == [("quick_exit",)]
    beacon, _ = await post(contact, "/chat/exit", {"token": token, "beacon": "1"})
    assert beacon.status == 204
    _, page = await post(contact, "/chat/refresh", {"token": token})
    assert "This chat has ended" in page


async def test_forged_token_in_a_form_shows_a_clear_page(harness: Harness) -> None:
    """A made-up token in a form gets a page that says the chat was not found."""
    contact = await harness.console()
    response, page = await post(contact, "/chat/refresh", {"token": "v1.made.up.token"})
    assert response.status == 410
    assert "could not be found" in page


async def test_static_files_are_only_the_chat_page_ones(harness: Harness) -> None:
    """/chat/static serves the chat's script and stylesheet and nothing else."""
    client = await harness.console()
    assert (await client.get("/chat/static/chat.js")).status == 200
    assert (await client.get("/chat/static/chat.css")).status == 200
    for path in ("/chat/static/widget.js", "/chat/static/../channel.py", "/chat/static/nope"):
        response: Any = await client.get(path)
        assert response.status == 404
