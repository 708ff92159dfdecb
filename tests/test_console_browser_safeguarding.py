"""Safeguarding in real browsers: a flag alerts supervisors live, the timer re-alerts, oversight, dual control."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Page, expect

from helpline.settings import Settings
from tests.conftest import Console, Harness
from tests.test_console_browser_a11y import NARROW, problems

if TYPE_CHECKING:
    from tests.browser import ConsoleUI

pytest_plugins = ("tests.browser",)

TEXTER = "+447700900123"
ONCALL = "+447700900555"
REASON = "She says he is outside with a knife; the ambulance service needs her number now"
# Counts the beeps a page starts (the Web Audio tone is made of oscillators), before any page script runs.
COUNT_TONES = """
window.__beeps = 0;
(function () {
  var start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function () { window.__beeps += 1; return start.apply(this, arguments); };
})();
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace("safeguarding", oncall_channel="sms", oncall_address=ONCALL, ack_seconds=120)


async def holding(harness: Harness, volunteer: str, text: str) -> tuple[Console, str]:
    """A volunteer (signed in to the API) holding a new SMS conversation; returns their client and its id."""
    api = await harness.console(volunteer)
    await harness.text(TEXTER, text)
    taken = await api.post("/api/queue/take")
    assert taken.status == 200, await taken.text()
    return api, (await taken.json())["id"]


async def beeps(page: Page) -> int:
    count: int = await page.evaluate("window.__beeps")
    return count


async def test_flag_alerts_supervisor_live_and_timer_realerts_and_texts_oncall(harness: Harness, ui: ConsoleUI) -> None:
    """A volunteer's flag puts up a supervisor's banner live; the timer re-alerts and texts the on-call supervisor."""
    _, conversation = await holding(harness, "amira", "he said he will hurt me")
    await harness.console("sam", role="supervisor")
    context = await ui.context(viewport=NARROW)
    await context.add_init_script(COUNT_TONES)
    sam = await ui.sign_in("sam", available=False, page=await context.new_page())
    await ui.wait_live(sam)
    await expect(sam.locator("#escalation-count")).to_have_text("0")
    await ui.mark(sam)

    amira = await ui.sign_in("amira", available=False)
    await amira.goto(ui.base_url + f"/console/conversations/{conversation}")
    await ui.wait_live(amira)
    await amira.get_by_role("button", name="Raise a safeguarding flag").click()
    await amira.get_by_label("Category").select_option("abuse")
    await amira.get_by_label("Significant harm").check()
    await amira.get_by_label("Note for the supervisor").fill("Says her stepfather threatened her tonight")
    assert await problems(amira) == []
    await amira.get_by_role("button", name="Raise flag").click()
    await expect(amira.locator("#flag-status")).to_have_text(re.compile("^Flag raised: Significant harm, Abuse"))
    await expect(amira.locator("#flag-list")).to_contain_text("Waiting for a supervisor")

    banner = sam.get_by_role("alert").filter(has_text="Safeguarding alert: Significant harm")
    await expect(banner).to_contain_text("raised by amira")
    await expect(sam.locator("#escalation-count")).to_have_text("1")
    await sam.wait_for_function("window.__beeps > 0")
    first = await beeps(sam)
    await ui.assert_same_document(sam)

    harness.clock.advance(seconds=121)
    assert await harness.helpline.safeguarding.run_once() == (1, 1)
    await expect(banner).to_have_attribute("data-alerts", "2")
    await expect(banner).to_contain_text("alerted again")
    await sam.wait_for_function(f"window.__beeps > {first}")
    [sms] = [m for m in harness.twilio.created if m["To"] == ONCALL]
    assert "escalation" in sms["Body"] and "stepfather" not in sms["Body"]

    await banner.get_by_role("link", name="Open this escalation").click()
    card = sam.get_by_role("listitem").filter(has=sam.get_by_role("heading", name=re.compile("Significant harm")))
    await expect(card).to_be_focused()
    await expect(card).to_contain_text("Says her stepfather threatened her tonight")
    await card.get_by_role("button", name="Acknowledge").click()
    await expect(card.get_by_label("Decision", exact=True)).to_be_focused()
    await expect(sam.get_by_role("alert").filter(has_text="Safeguarding alert")).to_have_count(0)
    await expect(amira.locator("#flag-list")).to_contain_text("A supervisor has acknowledged it")
    assert await problems(sam) == []

    await card.get_by_label("Decision", exact=True).select_option("referred")
    await card.get_by_label("Decision note").fill("Police child protection unit informed")
    await card.get_by_role("button", name="Record decision").click()
    await card.get_by_role("button", name="Close escalation").click()
    await card.get_by_role("button", name="Confirm close").click()
    await expect(sam.get_by_text("No escalation is open.")).to_be_visible()
    await expect(sam.locator("#escalation-count")).to_have_text("0")
    await expect(amira.locator("#flag-list")).to_contain_text("Closed")


async def test_supervisor_monitors_whispers_then_joins(harness: Harness, ui: ConsoleUI) -> None:
    """A supervisor reads read-only, whispers to the volunteer (never in the transcript), then joins and replies."""
    _, conversation = await holding(harness, "amira", "i dont feel safe at home")
    await harness.console("sam", role="supervisor")
    amira = await ui.sign_in("amira", available=False)
    await amira.goto(ui.base_url + f"/console/conversations/{conversation}")
    await ui.wait_live(amira)
    sam = await ui.sign_in("sam", available=False)
    await sam.goto(ui.base_url + f"/console/conversations/{conversation}")
    await ui.wait_live(sam)

    await expect(sam.locator("#monitor-title")).to_have_text("Monitoring — read-only.")
    await expect(sam.get_by_label("Your reply")).to_be_disabled()
    await sam.get_by_label("Whisper to amira").fill("Ask whether she can stay with her aunt tonight")
    await sam.get_by_role("button", name="Send whisper").click()
    whispers = amira.get_by_role("region", name="Supervisor whispers")
    await expect(whispers).to_contain_text("Ask whether she can stay with her aunt tonight")
    await expect(whispers).to_contain_text("Whisper from sam")
    await expect(amira.get_by_role("log")).not_to_contain_text("aunt")

    await sam.get_by_role("button", name="Join the conversation").click()
    await expect(sam.get_by_label("Your reply")).to_be_focused()
    await sam.get_by_label("Your reply").fill("Hello, I'm a supervisor here with Amira.")
    await sam.get_by_role("button", name="Send", exact=True).click()
    await expect(amira.get_by_role("log").locator(".msg-out").last).to_contain_text("I'm a supervisor here")
    await harness.send_outbox()
    assert [m["To"] for m in harness.twilio.created if "supervisor here" in m["Body"]] == [TEXTER]
    assert all("aunt" not in m["Body"] for m in harness.twilio.created)


async def test_dual_control_disclosure_through_the_console(harness: Harness, ui: ConsoleUI) -> None:
    """Supervisor A asks and cannot see the address; B approves; A sees it once; once closed, it no longer exists."""
    amira, conversation = await holding(harness, "amira", "he is outside with a knife")
    flag = {"category": "immediate_danger", "level": "significant_harm", "note": ""}
    assert (await amira.post(f"/api/conversations/{conversation}/flag", flag)).status == 201
    await harness.console("sam", role="supervisor")
    await harness.console("tess", role="supervisor")
    sam = await ui.sign_in("sam", available=False)
    await sam.goto(ui.base_url + f"/console/conversations/{conversation}")
    await ui.wait_live(sam)

    ask = sam.get_by_role("button", name="Request the contact's address for emergency services")
    await ask.click()
    await sam.get_by_role("button", name="Send the request").click()
    await expect(sam.locator("#disclosure-error")).to_have_text(re.compile("reason"))
    await sam.get_by_label("Why emergency services need the address").fill(REASON)
    await sam.get_by_role("button", name="Send the request").click()
    await expect(sam.locator("#disclosure-list")).to_contain_text("Waiting for a second supervisor to approve")
    await expect(sam.get_by_role("button", name="Show address once")).to_have_count(0)
    assert TEXTER not in await sam.content()

    tess = await ui.sign_in("tess", available=False)
    await tess.goto(ui.base_url + "/console/escalations")
    request = tess.get_by_role("listitem").filter(has_text=REASON)
    await request.get_by_role("button", name="Approve").click()
    await request.get_by_role("button", name="Confirm approval").click()
    await expect(request).to_contain_text("can now see the address once")
    await expect(request.get_by_role("button", name="Approve")).to_have_count(0)

    await expect(sam.locator("#disclosure-status")).to_contain_text("approved your request")
    await sam.get_by_role("button", name="Show address once").click()
    shown = sam.get_by_role("region", name="Contact's address — shown once")
    await expect(shown).to_contain_text(TEXTER)
    await expect(shown).to_contain_text("It will not be shown again")
    await expect(sam.get_by_role("button", name="Show address once")).to_have_count(0)
    assert await sam.evaluate("localStorage.length + sessionStorage.length") == 0
    await shown.get_by_role("button", name="Hide the address").click()
    assert TEXTER not in await sam.content()

    await harness.send_outbox()
    closed = await amira.post(f"/api/conversations/{conversation}/close", {"outcome": "referred"})
    assert closed.status == 200, await closed.text()
    await expect(sam.locator("#conv-status")).to_have_text("Closed")
    await ask.click()
    await sam.get_by_label("Why emergency services need the address").fill(REASON)
    await sam.get_by_role("button", name="Send the request").click()
    await expect(sam.locator("#disclosure-error")).to_have_text(re.compile("^The contact's address no longer exists"))
