"""The chat page on a phone, in a real browser: no Shift-key hint on a touch screen, and plain privacy advice."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.conftest import Harness
from tests.test_webchat_browser import base, new_context

pytest_plugins = ("tests.browser",)


async def test_a_touch_screen_gets_no_shift_hint_and_the_page_says_how_to_cover_tracks(
    browser: Browser, harness: Harness
) -> None:
    """On a phone "Press Shift 3 times" is not shown; every device is told how to keep the chat private."""
    phone = await new_context(browser, viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    desktop = await new_context(browser)
    try:
        page = await phone.new_page()
        await page.goto(base(harness) + "/chat")
        await expect(page.get_by_role("button", name="Exit this page")).to_be_visible()
        await expect(page.get_by_text("Or press Shift 3 times")).to_be_hidden()
        await page.get_by_text("Keep this chat private").click()
        await expect(page.get_by_text("open this page in a private window")).to_be_visible()
        await expect(page.get_by_text("clear your browsing history")).to_be_visible()

        wide = await desktop.new_page()
        await wide.goto(base(harness) + "/chat")
        await expect(wide.get_by_text("Or press Shift 3 times")).to_be_visible()
    finally:
        await phone.close()
        await desktop.close()
