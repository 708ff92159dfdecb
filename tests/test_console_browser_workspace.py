"""The conversation page as a workspace, in a real browser: the reply box ready, actions beside, shortcuts."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.async_api import expect

from tests.conftest import Harness

if TYPE_CHECKING:
    from tests.browser import ConsoleUI

pytest_plugins = ("tests.browser",)

DESKTOP = {"width": 1366, "height": 800}


async def test_the_reply_box_is_ready_and_the_actions_are_beside_it(harness: Harness, ui: ConsoleUI) -> None:
    """Opening a held conversation focuses the reply box below the transcript; notes and close sit beside it."""
    api = await harness.console("amira")
    await harness.text("+447700900881", "hello, is this private?")
    conversation = (await (await api.post("/api/queue/take")).json())["id"]
    page = await ui.sign_in("amira", page=await ui.page(viewport=DESKTOP))
    await page.goto(ui.base_url + f"/console/conversations/{conversation}")
    await expect(page.get_by_label("Your reply")).to_be_focused()

    transcript = await page.locator("#transcript").bounding_box()
    reply = await page.get_by_label("Your reply").bounding_box()
    notes = await page.locator("#notes-section").bounding_box()
    close = await page.locator("#close-section").bounding_box()
    assert transcript and reply and notes and close
    assert reply["y"] > transcript["y"] and reply["y"] < DESKTOP["height"]  # pinned below, on screen
    assert notes["x"] > transcript["x"] + transcript["width"]  # a side panel
    block = page.locator("#block-section")
    await expect(block).to_be_visible()
    block_box = await block.bounding_box()
    assert block_box and block_box["y"] > close["y"]  # blocking comes after everything everyday


async def test_keyboard_shortcuts_take_next_reply_and_move_between_conversations(
    harness: Harness, ui: ConsoleUI
) -> None:
    """Alt+N takes the next, Alt+J opens the held one waiting longest, Alt+R goes to the reply; ? lists them."""
    await harness.console("amira")
    await harness.text("+447700900881", "first")
    await harness.text("+447700900882", "second")
    page = await ui.sign_in("amira", page=await ui.page(viewport=DESKTOP))
    await ui.wait_live(page)
    await page.locator("body").press("?")
    help_box = page.get_by_role("dialog", name="Keyboard shortcuts")
    await expect(help_box).to_be_visible()
    await expect(help_box).to_contain_text("take the next conversation")
    await help_box.get_by_role("button", name="Close").click()

    await page.keyboard.press("Alt+KeyN")
    await page.wait_for_url(re.compile(r"/console/conversations/[^/]+$"))
    first = page.url
    await page.get_by_role("link", name="Queue", exact=True).click()
    await page.wait_for_url(ui.base_url + "/console")
    await ui.wait_live(page)  # shortcuts work once the page knows who is signed in
    await page.keyboard.press("Alt+KeyN")
    await page.wait_for_url(lambda url: url != first and "/console/conversations/" in url)
    await ui.wait_live(page)
    await page.locator("h1").click()
    await page.keyboard.press("Alt+KeyR")
    await expect(page.get_by_label("Your reply")).to_be_focused()
    await page.keyboard.press("Alt+KeyJ")
    await page.wait_for_url(first)
