"""Replies through the SMTP relay: retried when the relay fails for now, shown when it refuses for good."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from helpline.settings import Settings
from tests.conftest import Console, Harness
from tests.fakes.email_contact import email_settings, letter, mail
from tests.fakes.smtp_sink import SmtpSink

CONTACT = "jo@example.net"


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as running:
        yield running


@pytest.fixture
def settings(settings: Settings, sink: SmtpSink) -> Settings:
    return email_settings(settings, sink)


async def claimed_conversation(harness: Harness, sink: SmtpSink) -> tuple[Console, str]:
    """A conversation held by a volunteer, with its greeting already sent."""
    await mail(harness, letter(CONTACT, "hello"), sender=CONTACT)
    volunteer = await harness.console("amira")
    [waiting] = await volunteer.queue()
    await volunteer.post(f"/api/conversations/{waiting['id']}/claim")
    await harness.send_outbox()
    sink.messages.clear()
    return volunteer, str(waiting["id"])


async def reply(volunteer: Console, conversation_id: str, body: str) -> str:
    response = await volunteer.post(f"/api/conversations/{conversation_id}/messages", {"body": body})
    assert response.status == 201
    return str((await response.json())["id"])


async def delivery_of(volunteer: Console, conversation_id: str, message_id: str) -> dict[str, Any]:
    messages = (await volunteer.conversation(conversation_id))["messages"]
    found: dict[str, Any] = next(m for m in messages if m["id"] == message_id)
    return found


async def test_temporary_refusal_is_retried_after_backoff(harness: Harness, sink: SmtpSink) -> None:
    """A 451 from the relay is retried once the backoff has passed, and then sent exactly once."""
    volunteer, conversation = await claimed_conversation(harness, sink)
    message = await reply(volunteer, conversation, "are you safe?")
    sink.fail_next("451 4.3.0 Try again later", at="DATA")
    await harness.send_outbox()
    assert sink.messages == []
    assert (await delivery_of(volunteer, conversation, message))["delivery"] == "queued"

    await harness.send_outbox()  # the backoff has not passed: nothing happens
    assert sink.messages == []
    harness.clock.advance(seconds=harness.settings.outbox.backoff_base_seconds + 0.1)
    await harness.send_outbox()
    assert [m.message.get_content().strip() for m in sink.messages] == ["are you safe?"]
    assert (await delivery_of(volunteer, conversation, message))["delivery"] == "sent"
    harness.clock.advance(hours=1)
    await harness.send_outbox()
    assert len(sink.messages) == 1


async def test_permanent_refusal_is_shown_to_the_volunteer(harness: Harness, sink: SmtpSink) -> None:
    """A 550 for the recipient fails the reply at once, with a sentence the volunteer understands."""
    volunteer, conversation = await claimed_conversation(harness, sink)
    message = await reply(volunteer, conversation, "hello?")
    sink.fail_next("550 5.1.1 <jo@example.net>: Recipient address rejected", at="RCPT")
    await harness.send_outbox()
    shown = await delivery_of(volunteer, conversation, message)
    assert shown["delivery"] == "failed"
    assert shown["delivery_error"] == "The contact's email address was refused: it may not exist (smtp_550)."
    assert "jo@example.net" not in str(shown)
    harness.clock.advance(hours=1)
    await harness.send_outbox()
    assert sink.messages == []


async def test_relay_that_is_down_is_retried_then_given_up(harness: Harness, sink: SmtpSink) -> None:
    """A relay that refuses connections is retried max_attempts times, then the reply fails, shown as such."""
    volunteer, conversation = await claimed_conversation(harness, sink)
    message = await reply(volunteer, conversation, "hello?")
    await sink.stop()
    for _ in range(harness.settings.outbox.max_attempts + 2):
        await harness.send_outbox()
        harness.clock.advance(seconds=harness.settings.outbox.backoff_max_seconds)
    assert (await volunteer.login("amira")).status == 200  # the session ran out while the clock moved
    shown = await delivery_of(volunteer, conversation, message)
    assert shown["delivery"] == "failed"
    assert shown["delivery_error"] == "The mail relay could not be reached (smtp_connect)."


async def test_lost_answer_during_data_is_unknown_then_sent_again(harness: Harness, sink: SmtpSink) -> None:
    """When the relay took the data but never answered, the reply is "unknown", then sent again after the wait."""
    volunteer, conversation = await claimed_conversation(harness, sink)
    message = await reply(volunteer, conversation, "still there?")
    sink.stall_next()
    await harness.send_outbox()
    assert len(sink.stalled) == 1
    assert (await delivery_of(volunteer, conversation, message))["delivery"] == "unknown"
    await harness.send_outbox()
    assert sink.messages == []
    harness.clock.advance(seconds=harness.settings.outbox.unconfirmed_wait_seconds + 1)
    await harness.send_outbox()
    assert [m.message.get_content().strip() for m in sink.messages] == ["still there?"]
    assert (await delivery_of(volunteer, conversation, message))["delivery"] == "sent"


async def test_every_attempt_gets_a_fresh_message_id(harness: Harness, sink: SmtpSink) -> None:
    """A resent reply carries a new Message-ID, and answers to either id reach the conversation."""
    volunteer, conversation = await claimed_conversation(harness, sink)
    await reply(volunteer, conversation, "still there?")
    sink.stall_next()
    await harness.send_outbox()
    harness.clock.advance(seconds=harness.settings.outbox.unconfirmed_wait_seconds + 1)
    await harness.send_outbox()
    [resent] = sink.messages
    first_id = next(line for line in sink.stalled[0].split(b"\r\n") if line.startswith(b"Message-ID:"))
    assert first_id.split(b": ", 1)[1].decode() != resent.message["Message-ID"]
    answer = letter("another@example.org", "yes", subject="Re: x", in_reply_to=resent.message["Message-ID"])
    await mail(harness, answer, sender="another@example.org")
    [only] = await volunteer.queue()
    assert only["id"] == conversation


async def test_reply_to_an_international_address_uses_smtputf8(harness: Harness, sink: SmtpSink) -> None:
    """A contact whose address has non-ASCII letters is answered with SMTPUTF8, to that exact address."""
    raw = "From: Jöe <jöe@exämple.net>\r\nSubject: hallo\r\nMessage-ID: <u1@example.net>\r\n\r\nhilfe\r\n"
    assert (await mail(harness, raw.encode(), sender="envelope@example.net")).code == 250
    assert await harness.send_outbox() == 1  # the greeting
    [greeting] = sink.messages
    assert greeting.rcpt_tos == ["jöe@exämple.net"]
    assert greeting.message["To"] == "jöe@exämple.net"
