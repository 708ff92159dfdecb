"""A shift in real browsers: nothing a contact writes goes unseen, and nobody's conversations are stranded."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Page, expect

from helpline.core.models import Inbound
from helpline.settings import Settings
from tests.conftest import Harness
from tests.test_console_browser_safeguarding import COUNT_TONES

if TYPE_CHECKING:
    from tests.browser import ConsoleUI

pytest_plugins = ("tests.browser",)

TEXTER = "+447700900661"
OTHER = "+447700900662"
ONCALL = "+447700900663"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace("safeguarding", oncall_channel="sms", oncall_address=ONCALL)


async def beeps(page: Page) -> int:
    count: int = await page.evaluate("window.__beeps")
    return count


async def heard(page: Page, at_least: int) -> None:
    """Wait until the page has played at least ``at_least`` beeps (its CSP forbids wait_for_function's polling)."""
    for _ in range(200):
        if await beeps(page) >= at_least:
            return
        await page.wait_for_timeout(50)
    raise AssertionError(f"only {await beeps(page)} beeps, expected {at_least}")


async def counted(ui: ConsoleUI, username: str, *, available: bool = True) -> Page:
    """A signed-in page that counts the tones it plays."""
    context = await ui.context()
    await context.add_init_script(COUNT_TONES)
    return await ui.sign_in(username, available=available, page=await context.new_page())


async def test_a_new_message_in_a_held_conversation_shows_on_every_page(harness: Harness, ui: ConsoleUI) -> None:
    """While reading another chat, a new message in one I hold shows in the title and header, with an opt-in tone."""
    amira_api = await harness.console("amira")
    await harness.text(TEXTER, "hello")
    first = (await (await amira_api.post("/api/queue/take")).json())["id"]
    await amira_api.post(f"/api/conversations/{first}/messages", {"body": "Hi, I'm Amira. What's happening?"})
    await harness.text(OTHER, "can i talk to someone")
    second = (await (await amira_api.post("/api/queue/take")).json())["id"]
    await amira_api.post(f"/api/conversations/{second}/messages", {"body": "Of course."})

    amira = await counted(ui, "amira")
    await amira.goto(ui.base_url + f"/console/conversations/{second}")
    await ui.wait_live(amira)
    await expect(amira.locator("#unread-mark")).to_be_hidden()
    await expect(amira.get_by_label("Sound for new messages")).not_to_be_checked()

    await harness.text(TEXTER, "i took some already. about 10. im scared")
    await expect(amira.locator("#unread-mark")).to_have_text("1 new message")
    await expect(amira).to_have_title(re.compile(r"^\(1 new\) "))
    assert await beeps(amira) == 0  # the tone is off by default: a shared room

    await amira.get_by_label("Sound for new messages").check()
    await harness.text(TEXTER, "please")
    await expect(amira.locator("#unread-mark")).to_have_text("2 new messages")
    await heard(amira, 1)

    await amira.locator("#unread-mark").click()
    await amira.wait_for_url(ui.base_url + f"/console/conversations/{first}")
    await amira.get_by_role("link", name="Queue", exact=True).click()
    items = amira.locator("#mine-list li")
    await expect(items.first).to_contain_text("2 new messages")
    await expect(items.first).to_contain_text("waiting for your answer since")
    await expect(items.first).to_have_attribute("data-id", first)
    await expect(items.nth(1).locator(".unread-badge")).to_be_hidden()


async def test_signing_out_while_holding_asks_and_hands_back(harness: Harness, ui: ConsoleUI) -> None:
    """Signing out while holding asks first; the conversation returns to the queue and a supervisor is told."""
    amira_api = await harness.console("amira")
    await harness.console("sam", role="supervisor")
    await harness.text(TEXTER, "hello")
    held = (await (await amira_api.post("/api/queue/take")).json())["id"]

    sam = await ui.sign_in("sam", available=False)
    await ui.wait_live(sam)
    amira = await ui.sign_in("amira")
    await ui.wait_live(amira)
    await amira.get_by_role("button", name="Sign out").click()
    question = amira.get_by_role("alertdialog")
    await expect(question).to_contain_text("You are holding 1 conversation.")
    await question.get_by_role("button", name="Stay signed in").click()
    await expect(question).to_be_hidden()
    await amira.get_by_role("button", name="Sign out").click()
    await question.get_by_role("button", name="Return them to the queue and sign out").click()
    await amira.wait_for_url(re.compile(r"/login"))

    notice = sam.get_by_role("alert").filter(has_text="went back to the front of the queue")
    await expect(notice).to_contain_text("amira signed out")
    await expect(sam.locator(f'#waiting-rows tr[data-id="{held}"]')).to_be_visible()


async def test_a_transfer_arrives_with_a_notice_a_tone_and_the_note(harness: Harness, ui: ConsoleUI) -> None:
    """The receiving volunteer is told at once, with a tone and the handover note, on whatever page they are."""
    amira_api = await harness.console("amira")
    await harness.console("ben")
    await harness.text(TEXTER, "hello")
    held = (await (await amira_api.post("/api/queue/take")).json())["id"]
    ben = await counted(ui, "ben")
    await ui.wait_live(ben)

    note = {"to": "ben", "note": "She is 14 and hiding in the bathroom; keep it quiet."}
    assert (await amira_api.post(f"/api/conversations/{held}/transfer", note)).status == 200
    notice = ben.get_by_role("alert").filter(has_text="transferred to you")
    await expect(notice).to_contain_text("hiding in the bathroom")
    await expect(notice).to_contain_text("Handover note from amira")
    await heard(ben, 1)
    await notice.get_by_role("link", name="Open it").click()
    await ben.wait_for_url(ui.base_url + f"/console/conversations/{held}")


async def test_a_left_chat_is_shown_apart_and_closed_in_one_click(harness: Harness, ui: ConsoleUI) -> None:
    """The queue lists a left chat under "Left before an answer", not as waiting, and closes it in one click."""
    await harness.console("amira")
    chats = harness.helpline.conversations
    received = await chats.receive(Inbound("webchat", "chat-token-left", "chat-token-left-1", "hello?"))
    await chats.contact_left("webchat", "chat-token-left", "idle")
    amira = await ui.sign_in("amira")
    await expect(amira.locator("#waiting-summary")).to_have_text("No one is waiting.")
    left = amira.locator("#left-section")
    await expect(left.get_by_role("heading", name="Left before an answer")).to_be_visible()
    await left.get_by_role("button", name="Close: left before an answer").click()
    await expect(amira.get_by_text("Closed: the contact left before an answer.")).to_be_visible()
    await expect(left).to_be_hidden()
    rows = harness.rows("SELECT outcome FROM conversations WHERE id = ?", (received.conversation_id,))
    assert rows == [("left_before_answer",)]


async def test_a_disclosure_request_alerts_every_supervisor_online_and_on_call(
    harness: Harness, ui: ConsoleUI, settings: Settings
) -> None:
    """A request for a second supervisor rings like immediate danger on other supervisors' pages, and texts on-call."""
    assert settings.safeguarding.dual_control
    amira_api = await harness.console("amira")
    await harness.text(TEXTER, "he is outside with a knife")
    conversation = (await (await amira_api.post("/api/queue/take")).json())["id"]
    flag = {"category": "immediate_danger", "level": "significant_harm", "note": ""}
    assert (await amira_api.post(f"/api/conversations/{conversation}/flag", flag)).status == 201
    sam_api = await harness.console("sam", role="supervisor")
    await harness.console("tess", role="supervisor")
    tess = await counted(ui, "tess", available=False)
    await ui.wait_live(tess)
    await expect(tess.get_by_role("alert").filter(has_text="Safeguarding alert")).to_be_visible()
    before = await beeps(tess)

    reason = {"reason": "Police are at the door and need the address to get to her now."}
    assert (await sam_api.post(f"/api/conversations/{conversation}/disclosures", reason)).status == 201
    alert = tess.get_by_role("alert").filter(has_text="Disclosure request: a second supervisor is needed now")
    await expect(alert).to_contain_text("asked by sam")
    await expect(alert).to_contain_text("waiting")
    await heard(tess, before + 3)
    await alert.get_by_role("link", name="Review this request").click()
    await tess.wait_for_url(re.compile(r"/console/escalations#disclosure-"))

    harness.twilio.created.clear()
    await harness.helpline.safeguarding.run_once()
    texts = [m for m in harness.twilio.created if m["To"] == ONCALL]
    assert any("disclosure request" in m["Body"] for m in texts)
