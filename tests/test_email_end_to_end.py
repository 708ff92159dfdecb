"""The whole email path: a contact writes, a volunteer answers, the relay delivers it in the contact's thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from helpline.settings import Settings
from tests.conftest import Console, Harness
from tests.fakes.email_contact import HELPLINE_ADDRESS, email_settings, letter, mail
from tests.fakes.smtp_sink import Delivered, SmtpSink

CONTACT = "Jo.Contact@Example.NET"
REPLY = "I'm here. When did you last see him?"


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as running:
        yield running


@pytest.fixture
def settings(settings: Settings, sink: SmtpSink) -> Settings:
    return email_settings(settings, sink)


async def claimed(harness: Harness) -> tuple[Console, str]:
    volunteer = await harness.console("amira")
    [waiting] = await volunteer.queue()
    assert (await volunteer.post(f"/api/conversations/{waiting['id']}/claim")).status == 200
    return volunteer, str(waiting["id"])


async def reply(volunteer: Console, conversation_id: str, body: str) -> str:
    response = await volunteer.post(f"/api/conversations/{conversation_id}/messages", {"body": body})
    assert response.status == 201, await response.text()
    return str((await response.json())["id"])


def delivered(sink: SmtpSink, body: str) -> Delivered:
    [found] = [m for m in sink.messages if m.message.get_content().strip() == body]
    return found


def inbound_bodies(conversation: dict[str, Any]) -> list[str]:
    return [m["body"] for m in conversation["messages"] if m["direction"] == "in"]


async def test_email_claim_reply_deliver_threaded(harness: Harness, sink: SmtpSink) -> None:
    """An email becomes a conversation; the volunteer's reply reaches the relay in the contact's thread."""
    original = letter(CONTACT, "My son has not come home since Friday.", subject="Missing son")
    response = await mail(harness, original, sender=CONTACT)
    assert response.code == 250

    volunteer, conversation_id = await claimed(harness)
    conversation = await volunteer.conversation(conversation_id)
    assert conversation["channel"] == "email"
    assert inbound_bodies(conversation) == ["Subject: Missing son\n\nMy son has not come home since Friday."]
    assert CONTACT.lower() not in str(conversation).lower()

    reply_id = await reply(volunteer, conversation_id, REPLY)
    assert await harness.send_outbox() == 2  # the greeting and the reply
    sent = delivered(sink, REPLY)
    assert sent.rcpt_tos == ["jo.contact@example.net"]
    assert sent.mail_from == HELPLINE_ADDRESS
    assert sent.message["From"] == HELPLINE_ADDRESS
    assert sent.message["To"] == "jo.contact@example.net"
    assert sent.message["Subject"] == "Re: Missing son"
    assert sent.message["In-Reply-To"] == original["Message-ID"]
    assert sent.message["References"].split() == [original["Message-ID"]]
    assert sent.message["Message-ID"].endswith("@helpline.test>")
    assert sent.message["Message-ID"] != original["Message-ID"]
    assert sent.message.get_content_type() == "text/plain"
    assert not sent.message.is_multipart()

    [mine] = [m for m in (await volunteer.conversation(conversation_id))["messages"] if m["id"] == reply_id]
    assert mine["delivery"] == "sent"
    assert mine["author"] == "amira"


async def test_answer_to_our_email_joins_its_conversation(harness: Harness, sink: SmtpSink) -> None:
    """The contact's answer quoting our Message-ID lands in the same conversation, even from another address."""
    original = letter(CONTACT, "My son has not come home.", subject="Missing son")
    await mail(harness, original, sender=CONTACT)
    volunteer, conversation_id = await claimed(harness)
    await reply(volunteer, conversation_id, REPLY)
    await harness.send_outbox()
    ours = delivered(sink, REPLY).message

    answer = letter(
        "jo.other@example.org",
        "Thursday night. He is 14.\n\nOn Mon, 2 Mar 2026, help@helpline.test wrote:\n> " + REPLY,
        subject="Re: Missing son",
        in_reply_to=ours["Message-ID"],
        references=[original["Message-ID"], ours["Message-ID"]],
    )
    assert (await mail(harness, answer, sender="jo.other@example.org")).code == 250

    [only] = await volunteer.queue()
    assert only["id"] == conversation_id
    bodies = inbound_bodies(await volunteer.conversation(conversation_id))
    assert bodies == ["Subject: Missing son\n\nMy son has not come home.", "Thursday night. He is 14."]

    # The next reply goes to the address the conversation began with, answering the latest message.
    await reply(volunteer, conversation_id, "Thank you. Has he taken his phone?")
    await harness.send_outbox()
    second = delivered(sink, "Thank you. Has he taken his phone?")
    assert second.rcpt_tos == ["jo.contact@example.net"]
    assert second.message["In-Reply-To"] == answer["Message-ID"]
    assert second.message["References"].split() == [
        original["Message-ID"],
        ours["Message-ID"],
        answer["Message-ID"],
    ]
    assert second.message["Subject"] == "Re: Missing son"


async def test_follow_up_from_same_sender_joins_open_conversation(harness: Harness) -> None:
    """A second, unthreaded email from the same address goes to the open conversation."""
    await mail(harness, letter(CONTACT, "one", subject="First"), sender=CONTACT)
    await mail(harness, letter("jo.contact@example.net", "two", subject="Second"), sender=CONTACT)
    volunteer = await harness.console("amira")
    [only] = await volunteer.queue()
    bodies = inbound_bodies(await volunteer.conversation(only["id"]))
    assert bodies == ["Subject: First\n\none", "Subject: Second\n\ntwo"]


async def test_other_senders_open_their_own_conversations(harness: Harness) -> None:
    """Two contacts writing get two conversations."""
    await mail(harness, letter(CONTACT, "one"), sender=CONTACT)
    await mail(harness, letter("someone.else@example.org", "two"), sender="someone.else@example.org")
    volunteer = await harness.console("amira")
    assert len(await volunteer.queue()) == 2


async def test_closing_forgets_thread_and_route(harness: Harness, sink: SmtpSink) -> None:
    """After close the thread keys, route and vault (with the reply context) are gone; the next email is new."""
    original = letter(CONTACT, "first", subject="Hello")
    await mail(harness, original, sender=CONTACT)
    volunteer, conversation_id = await claimed(harness)
    await reply(volunteer, conversation_id, REPLY)
    await harness.send_outbox()
    ours = delivered(sink, REPLY).message
    assert harness.rows("SELECT COUNT(*) FROM thread_keys") == [(2,)]  # the greeting's and the reply's
    assert harness.rows("SELECT COUNT(*) FROM vault WHERE reply_context IS NOT NULL") == [(1,)]

    closed = await volunteer.post(f"/api/conversations/{conversation_id}/close", {"outcome": "advice"})
    assert closed.status == 200, await closed.text()
    assert harness.rows("SELECT COUNT(*) FROM thread_keys") == [(0,)]
    assert harness.rows("SELECT COUNT(*) FROM routes") == [(0,)]
    assert harness.rows("SELECT COUNT(*) FROM vault") == [(0,)]

    late = letter(CONTACT, "one more thing", subject="Re: Hello", in_reply_to=ours["Message-ID"])
    await mail(harness, late, sender=CONTACT)
    [new] = await volunteer.queue()
    assert new["id"] != conversation_id
    assert inbound_bodies(await volunteer.conversation(new["id"])) == ["one more thing"]


async def test_redelivered_email_is_stored_once(harness: Harness) -> None:
    """A sending server that lost our 250 sends the same message again: it appears once."""
    original = letter(CONTACT, "only once please")
    await mail(harness, original, sender=CONTACT)
    await mail(harness, original, sender=CONTACT)
    volunteer = await harness.console("amira")
    [only] = await volunteer.queue()
    assert len(inbound_bodies(await volunteer.conversation(only["id"]))) == 1


async def test_new_conversation_greets_with_an_email(harness: Harness, sink: SmtpSink) -> None:
    """The configured greeting answers a new email conversation, threaded to it."""
    original = letter(CONTACT, "hello?", subject="Is anyone there")
    await mail(harness, original, sender=CONTACT)
    assert await harness.send_outbox() == 1
    [greeting] = sink.messages
    assert greeting.message.get_content().strip() == harness.settings.helpline.greeting
    assert greeting.message["In-Reply-To"] == original["Message-ID"]
    assert greeting.message["Subject"] == "Re: Is anyone there"


async def test_machine_mail_is_never_answered_automatically(harness: Harness, sink: SmtpSink) -> None:
    """An auto-reply (Auto-Submitted) opens a conversation but earns no greeting, so no mail loop starts."""
    vacation = letter(CONTACT, "I am away until Monday.", subject="Out of office")
    vacation["Auto-Submitted"] = "auto-replied"
    await mail(harness, vacation, sender=CONTACT)
    volunteer = await harness.console("amira")
    [only] = await volunteer.queue()
    assert [m["direction"] for m in (await volunteer.conversation(only["id"]))["messages"]] == ["in"]
    assert await harness.send_outbox() == 0
    assert sink.messages == []


async def test_bounce_is_accepted_and_dropped(harness: Harness) -> None:
    """A delivery report (null sender) is taken with 250 and stored nowhere: answering it could loop."""
    report = letter("mailer-daemon@example.net", "Delivery failed", subject="Undelivered Mail Returned to Sender")
    assert (await mail(harness, report, sender="<>")).code == 250
    volunteer = await harness.console("amira")
    assert await volunteer.queue() == []
    assert harness.rows("SELECT COUNT(*) FROM messages") == [(0,)]


class TestGracePeriod:
    """With a grace period after closing, thread keys live as long as the route, no longer."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.replace("retention", vault_grace_minutes=10)

    async def test_answer_in_grace_reopens_then_keys_go_when_it_ends(self, harness: Harness, sink: SmtpSink) -> None:
        """An answer to our email within the grace period reopens its conversation; after it, a new one opens."""
        await mail(harness, letter(CONTACT, "first", subject="Hello"), sender=CONTACT)
        volunteer, conversation_id = await claimed(harness)
        await reply(volunteer, conversation_id, REPLY)
        await harness.send_outbox()
        ours = delivered(sink, REPLY).message
        closed = await volunteer.post(f"/api/conversations/{conversation_id}/close", {"outcome": "advice"})
        assert closed.status == 200
        assert harness.rows("SELECT COUNT(*) FROM thread_keys") == [(2,)]

        harness.clock.advance(minutes=9)
        answer = letter("jo.other@example.org", "one more thing", subject="Re: Hello", in_reply_to=ours["Message-ID"])
        await mail(harness, answer, sender="jo.other@example.org")
        [waiting] = await volunteer.queue()
        assert waiting["id"] == conversation_id and waiting["status"] == "waiting"

        await volunteer.post(f"/api/conversations/{conversation_id}/claim")
        await volunteer.post(f"/api/conversations/{conversation_id}/close", {"outcome": "advice"})
        harness.clock.advance(minutes=11)
        assert await harness.helpline.retention.expire_addresses() == 1
        assert harness.rows("SELECT COUNT(*) FROM thread_keys") == [(0,)]
        late = letter("jo.other@example.org", "and again", subject="Re: Hello", in_reply_to=ours["Message-ID"])
        await mail(harness, late, sender="jo.other@example.org")
        await volunteer.login("amira")
        [new] = await volunteer.queue()
        assert new["id"] != conversation_id
