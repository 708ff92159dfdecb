"""The console used with the keyboard alone: sign in, become available, claim, reply, close with consent."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.async_api import Page, expect

from tests.conftest import PASSWORD, Harness

if TYPE_CHECKING:
    from tests.browser import ConsoleUI

pytest_plugins = ("tests.browser",)

TEXTER = "+447700900777"
SAFE_TEXT = "You are safe to talk here. Nothing you say is shared without your agreement."


async def tab_to(page: Page, selector: str, *, limit: int = 60) -> None:
    """Press Tab until the focused element matches ``selector``; its focus must be visible."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate("s => document.activeElement !== null && document.activeElement.matches(s)", selector):
            outline = await page.evaluate(
                "() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; }"
            )
            assert outline[0] != "none" and outline[1] != "0px", f"no visible focus on {selector}"
            return
    raise AssertionError(f"Tab never reached {selector}")


async def test_claim_reply_and_close_by_keyboard(harness: Harness, ui: ConsoleUI) -> None:
    """Every step from sign-in to the closing form with consent works with Tab, arrows, Space and Enter."""
    admin = await harness.console("ada", role="admin")
    canned = {"code": "safe", "title": "Safe to talk", "body": SAFE_TEXT}
    assert (await admin.post("/api/admin/canned", canned)).status == 201
    kim = await harness.console("kim")
    await harness.text(TEXTER, "I ran away and I need help")

    page = await ui.page()
    await page.goto(ui.base_url + "/login")
    await expect(page.get_by_label("Username")).to_be_focused()
    await page.keyboard.type("kim")
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(ui.base_url + "/console")

    await tab_to(page, "button[data-value='available']")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name="Available")).to_have_attribute("aria-pressed", "true")
    await tab_to(page, ".claim-button")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/console/conversations/[^/]+$"))

    await tab_to(page, "#reply-body")
    await page.keyboard.type("Hello, I'm Kim. /saf")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Your reply")).to_have_value("Hello, I'm Kim. " + SAFE_TEXT)
    await page.keyboard.press("Control+Enter")
    await expect(page.get_by_role("log").locator(".msg-out").last).to_contain_text(SAFE_TEXT)

    await tab_to(page, "#close-outcome")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Tab")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Tab")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Tab")
    await expect(page.locator("#consent-yes")).to_be_focused()
    await page.keyboard.press("Space")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Name")).to_be_focused()
    await page.keyboard.type("Sam")
    await page.keyboard.press("Tab")
    await page.keyboard.type("2011-04-23")
    await page.keyboard.press("Tab")
    await page.keyboard.type("This number")
    await page.keyboard.press("Tab")
    await page.keyboard.type("Ran away after a row at home; now safe at an aunt's.")
    await page.keyboard.press("Tab")
    # A high-risk conversation closed with no safeguarding flag asks why none is needed.
    await expect(page.get_by_label("Why no safeguarding flag")).to_be_focused()
    await page.keyboard.type("Safe at her aunt's; no one at risk now.")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Close conversation")).to_be_focused()
    await page.keyboard.press("Enter")

    await expect(page.locator("#conv-status")).to_have_text("Closed")
    await expect(page.locator("#conv-status")).to_be_focused()
    conversation_id = page.url.rsplit("/", 1)[1]
    closed = await kim.conversation(conversation_id)
    assert closed["status"] == "closed"
    assert closed["outcome"] == "advice"
    assert closed["record_id"] is not None
