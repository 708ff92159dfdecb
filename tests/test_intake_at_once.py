"""The SMS intake's usual road: when nothing waits, a message is routed in its webhook's own transaction."""

from __future__ import annotations

import asyncio

from helpline.app import build
from helpline.core.models import Inbound
from tests.conftest import HELPLINE_NUMBER, CapturedLog, Harness

TEXTER = "+447700900456"


def _forms(harness: Harness, body: str) -> dict[str, str]:
    return harness.twilio.inbound_sms_params(TEXTER, HELPLINE_NUMBER, body)


def _inbound(body: str, sid_tail: int) -> Inbound:
    return Inbound("sms", TEXTER, "SM" + f"{sid_tail:032x}", body)


async def _bodies(harness: Harness) -> list[str]:
    volunteer = await harness.console("amira")
    [waiting] = await volunteer.queue()
    messages = (await volunteer.conversation(waiting["id"]))["messages"]
    return [m["body"] for m in messages if m["direction"] == "in"]


async def test_routed_in_the_webhooks_own_transaction_when_nothing_waits(harness: Harness) -> None:
    """Answered once the message is in its conversation; nothing passes through the intake table."""
    await harness.route_intake()  # the worker's first look at the table, as at start
    params = _forms(harness, "at once")
    response = await harness.post_webhook("/webhooks/twilio/sms", params, route=False)
    assert response.status == 200
    assert harness.rows("SELECT COUNT(*) FROM messages WHERE direction = 'in'") == [(1,)]
    assert harness.rows("SELECT COUNT(*) FROM intake") == [(0,)]
    intake = harness.helpline.intake
    assert (intake.accepted, intake.routed, intake.routed_at_once) == (1, 1, 1)
    # Twilio delivers it again: answered, stored once.
    again = await harness.post_webhook("/webhooks/twilio/sms", params, route=False)
    assert again.status == 200
    assert await _bodies(harness) == ["at once"]


async def test_a_redelivery_routed_at_once_is_stored_once(harness: Harness) -> None:
    """The same provider message twice, both routed at once: one message, and accept says the second is old."""
    intake = harness.helpline.intake
    await harness.route_intake()
    assert await intake.accept(_inbound("twice", 1)) is True
    assert await intake.accept(_inbound("twice", 1)) is False
    assert harness.rows("SELECT COUNT(*) FROM messages WHERE direction = 'in'") == [(1,)]
    assert intake.routed_at_once == 1


async def test_what_waits_in_the_table_is_routed_before_what_follows(harness: Harness) -> None:
    """At start, and while anything accepted through the table waits, later messages queue behind it, in order."""
    intake = harness.helpline.intake
    # At start the table may hold what a stop left, so the first messages go through it.
    assert await intake.accept(_inbound("first", 1))
    assert await intake.accept(_inbound("second", 2))
    assert harness.rows("SELECT COUNT(*) FROM intake") == [(2,)]
    assert await harness.route_intake() == 2
    # Nothing waits now: the next one is routed at once, after them.
    assert await intake.accept(_inbound("third", 3))
    assert (intake.routed, intake.routed_at_once) == (3, 1)
    assert await _bodies(harness) == ["first", "second", "third"]


async def test_a_surge_beyond_route_at_once_goes_through_the_table(harness: Harness) -> None:
    """With route_at_once webhooks already being routed, the next is answered from the intake table."""
    helpline = build(harness.settings.replace("sms", route_at_once=1), harness.clock)
    await helpline.store.open()
    try:
        await helpline.intake.route_waiting(10)
        # Both start before either commits: the first is routed at once, the second goes into the table.
        fresh = await asyncio.gather(
            helpline.intake.accept(_inbound("one", 1)), helpline.intake.accept(_inbound("two", 2))
        )
        assert list(fresh) == [True, True]
        assert harness.rows("SELECT COUNT(*) FROM intake") == [(1,)]
        assert harness.rows("SELECT COUNT(*) FROM messages WHERE direction = 'in'") == [(1,)]
        assert await helpline.intake.route_waiting(10) == 1
        assert (helpline.intake.routed, helpline.intake.routed_at_once) == (2, 1)
    finally:
        await helpline.store.close()
    assert harness.rows("SELECT COUNT(*) FROM intake") == [(0,)]
    assert harness.rows("SELECT COUNT(*) FROM messages WHERE direction = 'in'") == [(2,)]


async def test_a_message_whose_routing_at_once_fails_is_kept_in_the_table(
    harness: Harness, captured_log: CapturedLog
) -> None:
    """Routing fails (the conversation's key does not open): the webhook is still answered, the message kept."""
    assert (await harness.text(TEXTER, "before")).status == 200
    harness.db.execute("UPDATE conversations SET data_key = ?", (bytes(64),))
    restarted = build(harness.settings, harness.clock)  # no data key cached: it must be unwrapped, and fails
    await restarted.store.open()
    try:
        await restarted.intake.route_waiting(10)
        assert await restarted.intake.accept(_inbound("after", 9)) is True
        assert harness.rows("SELECT COUNT(*) FROM intake") == [(1,)]
        assert harness.rows("SELECT attempts FROM intake") == [(0,)]
        assert (restarted.intake.accepted, restarted.intake.routed) == (1, 0)
        # The worker tries it again from the table (and, failing, counts the attempt; it is never dropped).
        assert await restarted.intake.route_waiting(10) == 1
        assert harness.rows("SELECT attempts FROM intake") == [(1,)]
    finally:
        await restarted.store.close()
    assert harness.rows("SELECT COUNT(*) FROM messages WHERE direction = 'in'") == [(1,)]
    assert any('"event": "intake.route_at_once_failed"' in line for line in captured_log.lines)
