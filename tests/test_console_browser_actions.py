"""What staff do besides replying, through the pages: take next, private notes, block, transfer, lift a block."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.async_api import expect

from tests.conftest import Harness

if TYPE_CHECKING:
    from tests.browser import ConsoleUI

pytest_plugins = ("tests.browser",)

TEXTER = "+447700900555"


async def test_note_block_transfer_and_lift_from_the_pages(harness: Harness, ui: ConsoleUI) -> None:
    """A volunteer takes the next conversation, notes, blocks and transfers it; a supervisor lifts the block."""
    await harness.console("amira")
    ben = await harness.console("ben", live=True)
    supervisor = await harness.console("sue", role="supervisor")
    assert (await ben.post("/api/me/availability", {"availability": "available"})).status == 200
    await harness.text(TEXTER, "you lot are useless")

    amira = await ui.sign_in("amira")
    await expect(amira.get_by_text("You are holding 0 of 3 conversations.")).to_be_visible()
    await amira.get_by_role("button", name="Take next").click()
    await amira.wait_for_url(re.compile(r"/console/conversations/[^/]+$"))
    conversation_id = amira.url.rsplit("/", 1)[1]

    await amira.get_by_label("Add a private note").fill("Sounds like a prank; keep it short.")
    await amira.get_by_role("button", name="Add note").click()
    await expect(amira.locator("#notes-list")).to_contain_text("Sounds like a prank; keep it short.")
    assert not [m for m in harness.twilio.created if "prank" in m["Body"]]

    await amira.get_by_label("Reason").fill("Abusive messages")
    await amira.get_by_label("Days").fill("2")
    await amira.get_by_role("button", name="Block sender").click()
    await expect(amira.get_by_text("Sender blocked for 2 days.")).to_be_visible()
    await expect(amira.get_by_text("This sender is blocked")).to_be_visible()

    await amira.get_by_label("Transfer to").select_option("ben")
    await amira.get_by_role("textbox", name="Handover note").fill("Blocked for abuse; close it if they stay quiet.")
    await amira.get_by_role("button", name="Transfer", exact=True).click()
    await amira.wait_for_url(ui.base_url + "/console")
    await expect(amira.get_by_text("transferred with your handover note")).to_be_visible()
    assert (await ben.conversation(conversation_id))["assignee"] == "ben"

    floor = await ui.sign_in("sue", available=False)
    await floor.get_by_role("link", name="Floor").click()
    ben_row = floor.get_by_role("row", name=re.compile("^ben"))
    await expect(ben_row.get_by_role("link", name=re.compile("SMS"))).to_be_visible()
    block_row = floor.get_by_role("row", name=re.compile("Abusive messages"))
    await block_row.get_by_role("button", name="Lift").click()
    await block_row.get_by_role("button", name="Lift block").click()
    await expect(floor.get_by_text("Block lifted.")).to_be_visible()
    await expect(floor.get_by_text("No sender is blocked.")).to_be_visible()
    assert (await (await supervisor.get("/api/blocks")).json())["blocks"] == []
