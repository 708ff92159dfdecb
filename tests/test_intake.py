"""The SMS intake table: a webhook is answered once its message is durable and sealed; routing follows, once.

``sms.route_at_once`` is 0 here, so every message takes that road; ``test_intake_at_once.py`` has the other.
"""

from __future__ import annotations

import asyncio

import pytest

from helpline.app import build
from helpline.clock import to_text
from helpline.core.intake import MAX_ATTEMPTS
from helpline.settings import Settings
from tests.conftest import HELPLINE_NUMBER, Harness

TEXTER = "+447700900123"
BODY = "INTAKE my sister has not come home since Friday"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace("sms", route_at_once=0)


def _forms(harness: Harness, body: str = BODY) -> dict[str, str]:
    return harness.twilio.inbound_sms_params(TEXTER, HELPLINE_NUMBER, body)


async def test_answered_once_durable_and_sealed_then_routed_once(harness: Harness) -> None:
    """Answered once committed to the intake, sealed; routing moves it, once; a redelivery is dropped."""
    params = _forms(harness)
    response = await harness.post_webhook("/webhooks/twilio/sms", params, route=False)
    assert response.status == 200
    [(sealed,)] = harness.rows("SELECT sealed FROM intake")
    for secret in (BODY, TEXTER, TEXTER.lstrip("+"), params["MessageSid"]):
        assert secret.encode() not in bytes(sealed)
    assert harness.rows("SELECT COUNT(*) FROM messages") == [(0,)]

    assert await harness.route_intake() == 1
    assert harness.rows("SELECT COUNT(*) FROM intake") == [(0,)]
    assert harness.rows("SELECT COUNT(*) FROM messages WHERE direction = 'in'") == [(1,)]
    assert harness.helpline.intake.routed == 1

    # Twilio delivers the same message again: answered, nothing accepted or stored twice.
    assert (await harness.post_webhook("/webhooks/twilio/sms", params)).status == 200
    assert harness.rows("SELECT COUNT(*) FROM intake") == [(0,)]
    assert harness.rows("SELECT COUNT(*) FROM messages WHERE direction = 'in'") == [(1,)]
    assert harness.helpline.intake.accepted == 1


async def test_what_a_stop_left_is_routed_at_the_next_start(harness: Harness) -> None:
    """Accepted but not routed when the process stopped: a new process finds it in the table and routes it."""
    assert (await harness.post_webhook("/webhooks/twilio/sms", _forms(harness), route=False)).status == 200
    restarted = build(harness.settings, harness.clock)
    await restarted.store.open()
    try:
        assert await restarted.intake.route_waiting(10) == 1
        assert await restarted.intake.route_waiting(10) == 0
    finally:
        await restarted.store.close()
    assert harness.rows("SELECT COUNT(*) FROM intake") == [(0,)]
    volunteer = await harness.console("amira")
    [waiting] = await volunteer.queue()
    bodies = [m["body"] for m in (await volunteer.conversation(waiting["id"]))["messages"] if m["direction"] == "in"]
    assert bodies == [BODY]


async def test_a_message_that_cannot_be_routed_is_kept_and_set_aside(harness: Harness) -> None:
    """A row that does not open is retried, then set aside after MAX_ATTEMPTS failures: kept, counted, never dropped."""
    assert (await harness.post_webhook("/webhooks/twilio/sms", _forms(harness), route=False)).status == 200
    harness.db.execute("UPDATE intake SET sealed = ?", (bytes(64),))
    restarted = build(harness.settings, harness.clock)
    await restarted.store.open()
    try:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            assert await restarted.intake.route_waiting(10) == 1
            assert harness.rows("SELECT attempts FROM intake") == [(attempt,)]
        assert await restarted.intake.route_waiting(10) == 0
        assert restarted.intake.failures == MAX_ATTEMPTS
    finally:
        await restarted.store.close()
    assert harness.rows("SELECT COUNT(*) FROM intake") == [(1,)]
    assert harness.rows("SELECT COUNT(*) FROM messages") == [(0,)]


async def test_the_worker_routes_a_burst_in_order(harness: Harness) -> None:
    """With the intake worker running, a burst of webhooks all reach their conversations, in arrival order."""
    worker = asyncio.create_task(harness.helpline.intake_worker.run())
    try:
        for index in range(30):
            params = harness.twilio.inbound_sms_params(TEXTER, HELPLINE_NUMBER, f"burst {index:02d}")
            assert (await harness.post_webhook("/webhooks/twilio/sms", params, route=False)).status == 200
        async with asyncio.timeout(10):
            while harness.helpline.intake.routed < 30:
                await harness.helpline.intake.arrival()  # set whenever a message is accepted or routed
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    volunteer = await harness.console("amira")
    [waiting] = await volunteer.queue()
    bodies = [m["body"] for m in (await volunteer.conversation(waiting["id"]))["messages"] if m["direction"] == "in"]
    assert bodies == [f"burst {index:02d}" for index in range(30)]
    assert harness.rows("SELECT COUNT(*) FROM intake") == [(0,)]


async def test_a_message_is_dated_when_it_arrived_not_when_it_was_routed(harness: Harness) -> None:
    """Routed minutes later (a backlog, a restart), a message keeps its arrival time."""
    arrived = harness.clock.now()
    assert (await harness.post_webhook("/webhooks/twilio/sms", _forms(harness), route=False)).status == 200
    harness.clock.advance(minutes=5)
    assert await harness.route_intake() == 1
    assert harness.rows("SELECT created_at FROM messages WHERE direction = 'in'") == [(to_text(arrived),)]
    assert harness.rows("SELECT waiting_since FROM conversations") == [(to_text(arrived),)]
