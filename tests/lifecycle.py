"""What the data-lifecycle tests share: a conversation walked from first text to close, and raw database reads."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.conftest import Console, Harness


async def text_and_take(harness: Harness, volunteer: Console, number: str, body: str) -> str:
    """The contact texts; the volunteer takes the conversation. Returns its id."""
    assert (await harness.text(number, body)).status == 200
    taken = await volunteer.post("/api/queue/take")
    assert taken.status == 200, await taken.text()
    return str((await taken.json())["id"])


async def deliver_all(harness: Harness) -> list[str]:
    """Send the outbox and have Twilio report every outbound message delivered; returns their SIDs."""
    await harness.send_outbox()
    sids = [sid for sid, m in harness.twilio.messages.items() if m["direction"] == "outbound-api"]
    async with aiohttp.ClientSession() as session:
        for sid in sids:
            if harness.twilio.messages[sid]["status"] != "delivered":
                assert await harness.twilio.send_status_callback(session, sid, "delivered") == 200
    return sids


async def close(volunteer: Console, conversation_id: str, **form: Any) -> None:
    response = await volunteer.post(f"/api/conversations/{conversation_id}/close", {"outcome": "support", **form})
    assert response.status == 200, await response.text()


async def conversation_walked_to_close(harness: Harness, volunteer: Console, number: str, body: str) -> str:
    """In, a reply out, delivered, closed: the whole ordinary path."""
    conversation_id = await text_and_take(harness, volunteer, number, body)
    await volunteer.post(f"/api/conversations/{conversation_id}/messages", {"body": f"reply to {body}"})
    await deliver_all(harness)
    await close(volunteer, conversation_id)
    return conversation_id


def count(harness: Harness, table: str, conversation_id: str) -> int:
    """How many rows of ``table`` belong to the conversation, read straight from the file."""
    return int(harness.rows(f"SELECT COUNT(*) FROM {table} WHERE conversation_id = ?", (conversation_id,))[0][0])  # noqa: S608 - test table names
