"""The web chat's closed message is edited with the opening hours, and says when the line opens again."""

from __future__ import annotations

from tests.conftest import Harness

CLOSED = "The chat is closed just now. If you are in danger, call 999; Samaritans are on 116 123."


async def test_the_admin_edits_the_chat_closed_message_and_it_says_when_we_open(harness: Harness) -> None:
    """Saved with the hours, the chat's closed message is shown on /chat with the next opening time."""
    ada = await harness.console("ada", role="admin")
    # 09:00 on a Monday (the test clock); open on Tuesdays from 18:00 only.
    hours = {"days": {"tue": ["18:00-22:00"]}, "closed_message": "SMS closed text", "chat_closed_message": CLOSED}
    assert (await ada.post("/api/admin/hours", hours)).status == 200
    saved = await (await ada.get("/api/admin/hours")).json()
    assert saved["chat_closed_message"] == CLOSED and saved["open_now"] is False

    page = await (await ada.client.get("/chat")).text()
    assert CLOSED in page
    assert "We open again on Tuesday at 18:00." in page
    assert "SMS closed text" not in page
