"""The console in a real browser: live updates between volunteers, replies reaching the provider."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.async_api import WebSocketRoute, expect

from tests.conftest import Harness

if TYPE_CHECKING:
    from tests.browser import ConsoleUI

pytest_plugins = ("tests.browser",)

TEXTER = "+447700900123"


async def test_claim_leaves_the_other_queue_live_and_reply_reaches_twilio(harness: Harness, ui: ConsoleUI) -> None:
    """One volunteer claims; the other's queue drops it without a reload; the typed reply reaches Twilio."""
    await harness.console("amira")
    await harness.console("ben")
    amira = await ui.sign_in("amira")
    ben = await ui.sign_in("ben")
    await ui.wait_live(amira)
    await ui.wait_live(ben)
    await ui.mark(ben)

    await harness.text(TEXTER, "Hello, my brother has not come home")
    await expect(amira.locator("#waiting-rows tr")).to_have_count(1)
    await expect(ben.locator("#waiting-rows tr")).to_have_count(1)

    await amira.get_by_role("button", name=re.compile(r"^Claim")).click()
    await amira.wait_for_url(re.compile(r"/console/conversations/[^/]+$"))
    await expect(ben.locator("#waiting-rows tr")).to_have_count(0)
    await expect(ben.get_by_text("No one is waiting.")).to_be_visible()
    await ui.assert_same_document(ben)

    transcript = amira.get_by_role("log")
    await expect(transcript).to_contain_text("Hello, my brother has not come home")
    await amira.get_by_label("Your reply").fill("I'm here. When did you last see him?")
    await amira.get_by_role("button", name="Send", exact=True).click()
    await expect(transcript.locator(".msg-out").last).to_contain_text("I'm here. When did you last see him?")
    await expect(amira.get_by_label("Your reply")).to_have_value("")

    await harness.send_outbox()
    sent = [m for m in harness.twilio.created if m["Body"] == "I'm here. When did you last see him?"]
    assert [m["To"] for m in sent] == [TEXTER]
    await expect(transcript.locator(".msg-out").last.locator(".msg-delivery")).to_have_text("Sent")


async def test_new_message_appears_on_open_conversation(harness: Harness, ui: ConsoleUI) -> None:
    """A text that arrives while the conversation page is open shows up without a reload."""
    api = await harness.console("lee")
    await harness.text(TEXTER, "first message")
    assert (await api.post("/api/me/availability", {"availability": "available"})).status == 200
    [waiting] = await api.queue()
    assert (await api.post(f"/api/conversations/{waiting['id']}/claim")).status == 200

    page = await ui.sign_in("lee", available=False)
    await page.get_by_role("link", name=re.compile("SMS conversation")).click()
    await ui.wait_live(page)
    await ui.mark(page)
    transcript = page.get_by_role("log")
    await expect(transcript).to_contain_text("first message")

    await harness.text(TEXTER, "are you still there?")
    await expect(transcript.locator(".msg-in").last).to_have_text(re.compile("are you still there\\?"))
    await ui.assert_same_document(page)


async def test_conversation_transferred_away_sends_the_stale_tab_to_the_queue(harness: Harness, ui: ConsoleUI) -> None:
    """A volunteer whose conversation a supervisor moves is told who did; the new holder sees the note first."""
    await harness.console("amira")
    ben = await harness.console("ben", live=True)
    supervisor = await harness.console("sue", role="supervisor")
    assert (await ben.post("/api/me/availability", {"availability": "available"})).status == 200
    await harness.text(TEXTER, "can someone help")
    amira = await ui.sign_in("amira")
    await amira.get_by_role("button", name=re.compile(r"^Claim")).click()
    await amira.wait_for_url(re.compile(r"/console/conversations/[^/]+$"))
    await ui.wait_live(amira)
    conversation_id = amira.url.rsplit("/", 1)[1]

    note = {"to": "ben", "note": "Texter is 14 and scared; asked us not to call."}
    # Monitoring is read-only: the supervisor joins before moving it.
    assert (await supervisor.post(f"/api/conversations/{conversation_id}/join")).status == 200
    assert (await supervisor.post(f"/api/conversations/{conversation_id}/transfer", note)).status == 200
    await amira.wait_for_url(ui.base_url + "/console")
    await expect(
        amira.get_by_role("status").filter(has_text="sue moved that conversation to someone else")
    ).to_be_visible()

    ben_page = await ui.sign_in("ben", available=False)
    await ben_page.get_by_role("link", name=re.compile("SMS conversation")).click()
    handover = ben_page.get_by_role("region", name="Handover note")
    await expect(handover).to_contain_text("Texter is 14 and scared; asked us not to call.")
    await expect(handover).to_contain_text("sue")
    first = await ben_page.evaluate(
        "() => document.getElementById('handover-section').compareDocumentPosition("
        "document.getElementById('transcript')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    assert first


async def test_expired_session_says_so_and_links_to_sign_in(harness: Harness, ui: ConsoleUI) -> None:
    """When the session has expired under an open tab, the next update shows a way back to sign in."""
    await harness.console("amira")
    page = await ui.sign_in("amira")
    await ui.wait_live(page)
    harness.clock.advance(hours=13)

    await harness.text(TEXTER, "hello?")
    banner = page.get_by_role("alert").filter(has_text="Your session has ended")
    await expect(banner).to_be_visible()
    await banner.get_by_role("link", name="Sign in again").click()
    await page.wait_for_url(ui.base_url + "/login")
    await expect(page.get_by_label("Username")).to_be_visible()


async def test_missed_event_and_dropped_socket_catch_up_without_duplicates(harness: Harness, ui: ConsoleUI) -> None:
    """After a gap in the event numbers, and after the socket drops, every message shows exactly once."""
    api = await harness.console("lee")
    await harness.text(TEXTER, "first message")
    assert (await api.post("/api/me/availability", {"availability": "available"})).status == 200
    [waiting] = await api.queue()
    assert (await api.post(f"/api/conversations/{waiting['id']}/claim")).status == 200

    sockets: list[WebSocketRoute] = []
    switches = {"drop_next_event": False, "refuse": False}

    async def route(socket: WebSocketRoute) -> None:
        if switches["refuse"]:
            await socket.close()
            return
        server = socket.connect_to_server()

        def from_server(frame: str | bytes) -> None:
            if switches["drop_next_event"] and '"type":"event"' in str(frame):
                switches["drop_next_event"] = False
                return
            socket.send(frame)

        server.on_message(from_server)
        sockets.append(socket)

    page = await ui.page()
    await page.route_web_socket(re.compile(r"/console/ws(\?.*)?$"), route)
    await ui.sign_in("lee", available=False, page=page)
    await page.goto(ui.base_url + f"/console/conversations/{waiting['id']}")
    await ui.wait_live(page)
    await ui.mark(page)
    incoming = page.get_by_role("log").locator(".msg-in .msg-body")

    switches["drop_next_event"] = True
    await harness.text(TEXTER, "sent while an event was lost")
    # Only the gap in the numbers of the next frame, about someone else, can tell the page what it missed.
    await harness.text("+447700900999", "someone else")
    await expect(incoming).to_have_text(["first message", "sent while an event was lost"])

    switches["refuse"] = True
    await sockets[-1].close()
    await expect(page.locator("html")).to_have_attribute("data-live", "reconnecting")
    await harness.text(TEXTER, "sent while the socket was down")
    switches["refuse"] = False
    await ui.wait_live(page)
    await expect(incoming).to_have_text(
        ["first message", "sent while an event was lost", "sent while the socket was down"]
    )
    await ui.assert_same_document(page)


async def test_a_dropped_socket_resumes_after_the_last_event_without_reloading(harness: Harness, ui: ConsoleUI) -> None:
    """The page reconnects with the id of the last event it saw, is sent what it missed, and does not reload."""
    api = await harness.console("lee")
    await harness.text(TEXTER, "first message")
    assert (await api.post("/api/me/availability", {"availability": "available"})).status == 200
    [waiting] = await api.queue()
    assert (await api.post(f"/api/conversations/{waiting['id']}/claim")).status == 200

    sockets: list[WebSocketRoute] = []
    hellos: list[str] = []
    refuse = {"now": False}

    async def route(socket: WebSocketRoute) -> None:
        if refuse["now"]:
            await socket.close()
            return
        server = socket.connect_to_server()

        def from_server(frame: str | bytes) -> None:
            if '"type":"hello"' in str(frame):
                hellos.append(socket.url + " " + str(frame))
            socket.send(frame)

        server.on_message(from_server)
        sockets.append(socket)

    page = await ui.page()
    await page.route_web_socket(re.compile(r"/console/ws(\?.*)?$"), route)
    await ui.sign_in("lee", available=False, page=page)
    await page.goto(ui.base_url + f"/console/conversations/{waiting['id']}")
    await ui.wait_live(page)
    await ui.mark(page)
    incoming = page.get_by_role("log").locator(".msg-in .msg-body")
    await harness.text(TEXTER, "seen live")
    await expect(incoming).to_have_text(["first message", "seen live"])
    await page.evaluate(
        """() => {
          window.__liveStates = [];
          new MutationObserver(() => window.__liveStates.push(document.documentElement.getAttribute("data-live")))
            .observe(document.documentElement, {attributes: true, attributeFilter: ["data-live"]});
        }"""
    )

    refuse["now"] = True
    await sockets[-1].close()
    await expect(page.locator("html")).to_have_attribute("data-live", "reconnecting")
    await harness.text(TEXTER, "sent while the socket was down")
    refuse["now"] = False
    await ui.wait_live(page)
    await expect(incoming).to_have_text(["first message", "seen live", "sent while the socket was down"])
    assert "last=" in hellos[-1] and '"resumed":true' in hellos[-1]
    assert "syncing" not in await page.evaluate("window.__liveStates")  # no reload from the API
    await ui.assert_same_document(page)
