"""Claiming is atomic: of two volunteers claiming at once, exactly one wins."""

from __future__ import annotations

import asyncio

from tests.conftest import Harness


async def test_two_volunteers_claim_at_once(harness: Harness) -> None:
    """Two simultaneous claims: one 200, one 409 naming the reason, and the winner holds it."""
    await harness.text("+447700900123", "is anyone there")
    amira = await harness.console("amira")
    ben = await harness.console("ben")
    [waiting] = await amira.queue()
    path = f"/api/conversations/{waiting['id']}/claim"
    first, second = await asyncio.gather(amira.post(path), ben.post(path))
    statuses = sorted([first.status, second.status])
    assert statuses == [200, 409]
    loser = first if first.status == 409 else second
    assert "already claimed" in (await loser.json())["error"]
    winner = "amira" if first.status == 200 else "ben"
    assert (await amira.conversation(waiting["id"]) if winner == "amira" else await ben.conversation(waiting["id"]))[
        "assignee"
    ] == winner
    assert harness.rows("SELECT COUNT(*) FROM audit WHERE action = 'conversation.claimed'") == [(1,)]


async def test_claiming_again_is_harmless(harness: Harness) -> None:
    """The holder claiming twice (a double click) is not an error."""
    await harness.text("+447700900123", "hello")
    amira = await harness.console("amira")
    [waiting] = await amira.queue()
    path = f"/api/conversations/{waiting['id']}/claim"
    assert (await amira.post(path)).status == 200
    assert (await amira.post(path)).status == 200


async def test_claimed_conversation_leaves_others_queue(harness: Harness) -> None:
    """Once claimed, the conversation is no longer in another volunteer's queue."""
    await harness.text("+447700900123", "hello")
    amira = await harness.console("amira")
    ben = await harness.console("ben")
    [waiting] = await amira.queue()
    await amira.post(f"/api/conversations/{waiting['id']}/claim")
    assert await ben.queue() == []
    assert [c["id"] for c in await amira.queue()] == [waiting["id"]]
