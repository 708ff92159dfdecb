"""The outbox: replies are retried until sent, never sent twice, and failures are shown."""

from __future__ import annotations

from typing import Any

import aiohttp

from helpline.app import build
from tests.conftest import Harness

TEXTER = "+447700900123"


async def claimed_conversation(harness: Harness) -> tuple[Any, str]:
    """A conversation held by a volunteer, with its greeting already sent."""
    await harness.text(TEXTER, "hello")
    amira = await harness.console("amira")
    [waiting] = await amira.queue()
    await amira.post(f"/api/conversations/{waiting['id']}/claim")
    await harness.send_outbox()  # the greeting
    harness.twilio.created.clear()
    return amira, waiting["id"]


async def reply(console: Any, conversation_id: str, body: str) -> str:
    response = await console.post(f"/api/conversations/{conversation_id}/messages", {"body": body})
    assert response.status == 201
    return str((await response.json())["id"])


async def delivery_of(console: Any, conversation_id: str, message_id: str) -> dict[str, Any]:
    messages = (await console.conversation(conversation_id))["messages"]
    found: dict[str, Any] = next(m for m in messages if m["id"] == message_id)
    return found


async def test_transient_failure_is_retried_after_backoff(harness: Harness) -> None:
    """A 503 from Twilio is retried once the backoff has passed, and then sent exactly once."""
    amira, conversation = await claimed_conversation(harness)
    message = await reply(amira, conversation, "are you safe?")
    harness.twilio.fail_next(503, 20500)
    await harness.send_outbox()
    assert harness.twilio.created == []
    assert (await delivery_of(amira, conversation, message))["delivery"] == "queued"

    await harness.send_outbox()  # backoff not over yet: nothing happens
    assert harness.twilio.created == []
    harness.clock.advance(seconds=harness.settings.outbox.backoff_base_seconds + 0.1)
    await harness.send_outbox()
    assert [m["Body"] for m in harness.twilio.created] == ["are you safe?"]
    assert (await delivery_of(amira, conversation, message))["delivery"] == "sent"

    harness.clock.advance(hours=1)
    await harness.send_outbox()
    assert len(harness.twilio.created) == 1


async def test_permanent_failure_is_shown_to_the_volunteer(harness: Harness) -> None:
    """21610 (the contact opted out) fails at once, with a sentence the volunteer understands."""
    amira, conversation = await claimed_conversation(harness)
    harness.twilio.opted_out.add(TEXTER)
    message = await reply(amira, conversation, "hello?")
    await harness.send_outbox()
    shown = await delivery_of(amira, conversation, message)
    assert shown["delivery"] == "failed"
    assert shown["delivery_error"] == "The contact has opted out of messages from this number (21610)."
    harness.clock.advance(hours=1)
    await harness.send_outbox()
    assert harness.twilio.created == []


async def test_gives_up_after_max_attempts(harness: Harness) -> None:
    """A provider that keeps failing is tried max_attempts times, then the reply is marked failed."""
    amira, conversation = await claimed_conversation(harness)
    message = await reply(amira, conversation, "hello?")
    attempts = harness.settings.outbox.max_attempts
    harness.twilio.fail_next(500, 20500, times=attempts + 5)
    for _ in range(attempts + 2):
        await harness.send_outbox()
        harness.clock.advance(seconds=harness.settings.outbox.backoff_max_seconds)
    assert harness.rows("SELECT delivery FROM messages WHERE id = ?", (message,)) == [("failed",)]
    assert harness.rows("SELECT state, attempts FROM outbox WHERE message_id = ?", (message,)) == [("failed", attempts)]
    assert len(harness.twilio.requests) == attempts + 1  # the greeting, then every attempt


async def test_lost_answer_waits_for_the_status_callback(harness: Harness) -> None:
    """When Twilio took the request but the answer was lost, the callback confirms it and nothing is resent."""
    amira, conversation = await claimed_conversation(harness)
    message = await reply(amira, conversation, "still there?")
    harness.twilio.stall_next()
    await harness.send_outbox()
    assert (await delivery_of(amira, conversation, message))["delivery"] == "unknown"

    # Twilio did accept it: its status callback carries our reference.
    sid = harness.twilio.add_inbound(TEXTER, TEXTER, "placeholder")
    outbox_id = harness.rows("SELECT id FROM outbox WHERE message_id = ?", (message,))[0][0]
    url = f"{harness.settings.sms.public_base_url}/webhooks/twilio/status?ref={outbox_id}"
    async with aiohttp.ClientSession() as session:
        assert await harness.twilio.send_status_callback(session, sid, "delivered", url) == 200
    assert (await delivery_of(amira, conversation, message))["delivery"] == "delivered"

    harness.clock.advance(seconds=harness.settings.outbox.unconfirmed_wait_seconds + 1)
    await harness.send_outbox()
    assert [m["Body"] for m in harness.twilio.created] == []


async def test_lost_answer_without_callback_is_sent_again_after_the_wait(harness: Harness) -> None:
    """With no callback by the end of the wait, the provider never had it: it is sent once more."""
    amira, conversation = await claimed_conversation(harness)
    message = await reply(amira, conversation, "still there?")
    harness.twilio.stall_next()
    await harness.send_outbox()
    assert harness.twilio.created == []
    await harness.send_outbox()
    assert harness.twilio.created == []
    harness.clock.advance(seconds=harness.settings.outbox.unconfirmed_wait_seconds + 1)
    await harness.send_outbox()
    assert [m["Body"] for m in harness.twilio.created] == ["still there?"]
    assert (await delivery_of(amira, conversation, message))["delivery"] == "sent"


async def test_restart_mid_send_does_not_send_twice(harness: Harness) -> None:
    """A reply marked sending when the process died is not resent by the next process at once."""
    amira, conversation = await claimed_conversation(harness)
    message = await reply(amira, conversation, "are you there?")
    [item] = await harness.helpline.delivery.due(10)
    job = await harness.helpline.delivery.start(item.id)  # durable "sending", then the process dies
    assert job is not None

    restarted = build(harness.settings, harness.clock)
    await restarted.open()
    try:
        assert await restarted.outbound.run_once() == 0
        harness.clock.advance(seconds=harness.settings.outbox.unconfirmed_wait_seconds + 1)
        await restarted.outbound.run_once()
    finally:
        await restarted.close()
    assert [m["Body"] for m in harness.twilio.created] == ["are you there?"]
    assert (await delivery_of(amira, conversation, message))["delivery"] == "sent"


async def test_nothing_is_lost_across_a_restart(harness: Harness) -> None:
    """Replies queued before a restart are sent by the next process, once each."""
    amira, conversation = await claimed_conversation(harness)
    bodies = [f"reply {n}" for n in range(5)]
    for body in bodies:
        await reply(amira, conversation, body)
    restarted = build(harness.settings, harness.clock)
    await restarted.open()
    try:
        await restarted.outbound.run_once()
        await restarted.outbound.run_once()
    finally:
        await restarted.close()
    assert sorted(m["Body"] for m in harness.twilio.created) == sorted(bodies)


async def test_status_callbacks_never_move_backwards(harness: Harness) -> None:
    """A late 'sent' callback after 'delivered' leaves the reply delivered."""
    amira, conversation = await claimed_conversation(harness)
    message = await reply(amira, conversation, "hi")
    await harness.send_outbox()
    sid = next(s for s, m in harness.twilio.messages.items() if m["body"] == "hi")
    async with aiohttp.ClientSession() as session:
        assert await harness.twilio.send_status_callback(session, sid, "delivered") == 200
        assert await harness.twilio.send_status_callback(session, sid, "sent") == 200
    assert (await delivery_of(amira, conversation, message))["delivery"] == "delivered"


async def test_vault_is_kept_until_the_last_reply_is_sent(harness: Harness) -> None:
    """Closing right after replying still lets the reply go out; then the address is deleted."""
    amira, conversation = await claimed_conversation(harness)
    await reply(amira, conversation, "take care")
    await amira.post(f"/api/conversations/{conversation}/close", {"outcome": "support"})
    assert harness.rows("SELECT COUNT(*) FROM vault") == [(1,)]
    await harness.send_outbox()
    assert [m["Body"] for m in harness.twilio.created] == ["take care"]
    assert harness.rows("SELECT COUNT(*) FROM vault") == [(0,)]
