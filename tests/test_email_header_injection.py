"""Header injection: text a contact or volunteer controls never becomes a header of the mail we send.

The contact controls the subject and the ids we quote back (``Subject``, ``In-Reply-To``,
``References``); the volunteer controls the body. Encoded newlines in any of them must not add a
``Bcc:`` (a second recipient) or any other header to our reply.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from helpline.settings import Settings
from tests.conftest import Harness
from tests.fakes.email_contact import email_settings, mail
from tests.fakes.smtp_sink import Delivered, SmtpSink

CONTACT = "jo@example.net"
VICTIM = "victim@example.org"


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as running:
        yield running


@pytest.fixture
def settings(settings: Settings, sink: SmtpSink) -> Settings:
    return email_settings(settings, sink)


def header_names(delivered: Delivered) -> list[str]:
    head = delivered.content.split(b"\r\n\r\n", 1)[0].decode("ascii")
    return [line.split(":", 1)[0].lower() for line in head.split("\r\n") if line and not line[0].isspace()]


async def answered(harness: Harness, sink: SmtpSink, raw: bytes, reply: str = "We are here.") -> Delivered:
    """Mail ``raw`` in, reply to it from the console, and return what the relay received."""
    assert (await mail(harness, raw, sender=CONTACT)).code == 250
    volunteer = await harness.console("amira")
    [waiting] = await volunteer.queue()
    await volunteer.post(f"/api/conversations/{waiting['id']}/claim")
    await harness.send_outbox()
    sink.messages.clear()
    response = await volunteer.post(f"/api/conversations/{waiting['id']}/messages", {"body": reply})
    assert response.status == 201
    await harness.send_outbox()
    [delivered] = sink.messages
    return delivered


async def test_encoded_newline_in_subject_adds_no_header(harness: Harness, sink: SmtpSink) -> None:
    """A Subject that decodes to CRLF + "Bcc:" stays one line, and our reply goes to the contact alone."""
    raw = (
        f"From: {CONTACT}\r\nMessage-ID: <inj-1@example.net>\r\n"
        f"Subject: =?utf-8?q?Help=0D=0ABcc:_{VICTIM}=0D=0A=0D=0Abody?=\r\n\r\nhello\r\n"
    ).encode()
    delivered = await answered(harness, sink, raw)
    assert delivered.rcpt_tos == [CONTACT]
    assert "bcc" not in header_names(delivered)
    assert header_names(delivered).count("subject") == 1
    assert delivered.message["Subject"] == f"Re: Help Bcc: {VICTIM} body"
    assert "\n" not in delivered.message["Subject"]


async def test_injection_in_quoted_ids_adds_no_header(harness: Harness, sink: SmtpSink) -> None:
    """In-Reply-To and References with folded-in headers yield only well-formed ids in our reply."""
    raw = (
        f"From: {CONTACT}\r\nSubject: hi\r\nMessage-ID: <inj-2@example.net>\r\n"
        f"References: <a@example.net>\r\n\tBcc: {VICTIM}\r\n <b@example.net>\r\n"
        f"In-Reply-To: =?utf-8?q?<x@y>=0D=0ABcc:_{VICTIM}?=\r\n\r\nhello\r\n"
    ).encode()
    delivered = await answered(harness, sink, raw)
    assert delivered.rcpt_tos == [CONTACT]
    assert "bcc" not in header_names(delivered)
    assert delivered.message["In-Reply-To"] == "<inj-2@example.net>"
    assert delivered.message["References"].split() == ["<a@example.net>", "<b@example.net>", "<inj-2@example.net>"]


async def test_newline_in_display_name_does_not_reach_our_headers(harness: Harness, sink: SmtpSink) -> None:
    """A From display name hiding CRLF + "Bcc:" does not change who our reply goes to."""
    raw = (
        f"From: =?utf-8?q?Jo=0D=0ABcc:_{VICTIM}?= <{CONTACT}>\r\nSubject: hi\r\nMessage-ID: <inj-3@example.net>\r\n"
        "\r\nhello\r\n"
    ).encode()
    delivered = await answered(harness, sink, raw)
    assert delivered.rcpt_tos == [CONTACT]
    assert delivered.message["To"] == CONTACT
    assert "bcc" not in header_names(delivered)


async def test_header_lines_in_a_reply_body_stay_in_the_body(harness: Harness, sink: SmtpSink) -> None:
    """A volunteer's reply starting with header-like lines is body text, under our own headers."""
    raw = f"From: {CONTACT}\r\nSubject: hi\r\nMessage-ID: <inj-4@example.net>\r\n\r\nhello\r\n".encode()
    delivered = await answered(harness, sink, raw, reply=f"Bcc: {VICTIM}\r\n\r\nSubject: changed\nHi")
    assert delivered.rcpt_tos == [CONTACT]
    assert "bcc" not in header_names(delivered)
    assert delivered.message["Subject"] == "Re: hi"
    assert delivered.message.get_content().splitlines()[:3] == [f"Bcc: {VICTIM}", "", "Subject: changed"]
