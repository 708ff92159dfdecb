"""A reply left "sending" by a crash: the next process asks Twilio at once, and never sends it twice.

The kill-like scenario: the outbox row is durably "sending" (the first step of every send), then the process
dies — before Twilio was called, or after Twilio accepted the message but before its answer was recorded.
The next process starts, and without waiting out ``outbox.unconfirmed_wait_seconds`` reads Twilio's Message
list for that number: if the reply is there its sid is recorded and it is marked sent; if not it is sent at
once; if Twilio cannot be asked, nothing is sent until it can. Where instances share PostgreSQL, the next
process takes such a send only once its send lease (two minutes, not the unconfirmed wait) has passed (until
then it may be another instance's send in flight: ``test_instances_outbox.py``), and from then on behaves the
same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from helpline.app import Helpline, build
from helpline.core.delivery import Job
from tests.conftest import Harness
from tests.test_outbox import claimed_conversation, reply


async def left_sending(harness: Harness, body: str) -> tuple[str, Job]:
    """A reply whose outbox row a process marked "sending" before it died; its message id and the job."""
    amira, conversation = await claimed_conversation(harness)
    message = await reply(amira, conversation, body)
    [item] = await harness.helpline.delivery.due(10)
    job = await harness.helpline.delivery.start(item.id)
    assert job is not None
    return message, job


def delivery(harness: Harness, message: str) -> str:
    """The reply's delivery state as the console shows it."""
    return str(harness.rows("SELECT delivery FROM messages WHERE id = ?", (message,))[0][0])


@asynccontextmanager
async def restarted(harness: Harness) -> AsyncIterator[Helpline]:
    """The next server process over the same data directory (its workers driven by the test)."""
    if harness.helpline.store.engine.shared_by_instances:
        # Another instance may be sending it until its send lease has passed.
        harness.clock.advance(seconds=harness.settings.outbox.send_lease_seconds + 1)
    helpline = build(harness.settings, harness.clock)
    await helpline.open()
    try:
        yield helpline
    finally:
        await helpline.close()


async def test_a_reply_twilio_already_has_is_recorded_and_not_sent_again(harness: Harness) -> None:
    """Twilio accepted it, the process died before recording that: the next one records Twilio's sid."""
    message, job = await left_sending(harness, "are you somewhere safe tonight?")
    sid = await harness.helpline.sms_sender.send(job.address, job.body, job.item.id)  # reached Twilio; then "kill"
    assert delivery(harness, message) == "sending"

    async with restarted(harness) as next_process:
        assert await next_process.outbound.recover() == 1
        assert await next_process.outbound.run_once() == 0
    assert [m["Body"] for m in harness.twilio.created] == ["are you somewhere safe tonight?"]
    assert harness.rows("SELECT state FROM outbox WHERE message_id = ?", (message,)) == [("done",)]
    [(sealed,)] = harness.rows("SELECT provider_id FROM messages WHERE id = ?", (message,))
    assert sealed is not None and sid.encode() not in sealed  # recorded, and sealed
    assert harness.twilio.requests[-1][0] == "GET" and harness.twilio.requests[-1][1].endswith("/Messages.json")


async def test_a_reply_twilio_never_got_is_sent_at_once_and_once_only(harness: Harness) -> None:
    """Died before calling Twilio: the next process sends it at once (no 15-minute wait), exactly once."""
    message, _ = await left_sending(harness, "we are still here for you")
    async with restarted(harness) as next_process:
        assert await next_process.outbound.recover() == 1
        await next_process.outbound.recover()
        harness.clock.advance(seconds=harness.settings.outbox.unconfirmed_wait_seconds + 1)
        await next_process.outbound.run_once()
    assert [m["Body"] for m in harness.twilio.created] == ["we are still here for you"]
    assert delivery(harness, message) == "sent"


async def test_when_twilio_cannot_be_asked_nothing_is_sent_until_it_can(harness: Harness) -> None:
    """The Message list fails: nothing is sent; after the unconfirmed wait it is asked again, then sent once."""
    message, _ = await left_sending(harness, "text us back when you can")
    async with restarted(harness) as next_process:
        harness.twilio.fail_next(503, 20500)
        await next_process.outbound.recover()
        assert harness.twilio.created == []
        assert delivery(harness, message) == "unknown"
        await next_process.outbound.run_once()
        assert harness.twilio.created == []
        harness.clock.advance(seconds=harness.settings.outbox.unconfirmed_wait_seconds + 1)
        await next_process.outbound.run_once()
    assert [m["Body"] for m in harness.twilio.created] == ["text us back when you can"]


async def test_another_text_to_the_same_number_is_not_taken_for_the_lost_one(harness: Harness) -> None:
    """Only the same text counts: the greeting, or a different reply, to that number does not stop the send."""
    message, job = await left_sending(harness, "first lost reply")
    await harness.helpline.sms_sender.send(job.address, "a different reply", "other-ref-0000000000")
    async with restarted(harness) as next_process:
        await next_process.outbound.recover()
    assert [m["Body"] for m in harness.twilio.created] == ["a different reply", "first lost reply"]
    assert delivery(harness, message) == "sent"


async def test_a_send_in_flight_is_held_for_the_send_lease_not_the_unconfirmed_wait(harness: Harness) -> None:
    """A dead instance's send in flight is due again after the send lease; a lost answer after the unconfirmed wait."""
    settings = harness.settings.outbox
    assert settings.send_lease_seconds < settings.unconfirmed_wait_seconds
    _, job = await left_sending(harness, "we will be here all night")
    started = harness.clock.now()
    held = await harness.helpline.store.read(lambda tx: tx.outbox.get(job.item.id))
    assert held is not None and held.state == "sending"
    assert held.next_attempt_at == started + timedelta(seconds=settings.send_lease_seconds)
    await harness.helpline.delivery.unconfirmed(job.item)
    held = await harness.helpline.store.read(lambda tx: tx.outbox.get(job.item.id))
    assert held is not None and held.state == "sending"
    assert held.next_attempt_at == started + timedelta(seconds=settings.unconfirmed_wait_seconds)
