"""The inbound SMTP server's answers: only the helpline's addresses, a size limit, a sender, no AUTH, clean stops."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiosmtplib
import pytest

from helpline.settings import Settings
from tests.conftest import Harness
from tests.fakes.email_contact import HELPLINE_ADDRESS, RawSmtp, email_settings, letter, mail, smtp_port
from tests.fakes.smtp_sink import SmtpSink

CONTACT = "jo@example.net"


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as running:
        yield running


@pytest.fixture
def settings(settings: Settings, sink: SmtpSink) -> Settings:
    return email_settings(settings, sink)


def stored_messages(harness: Harness) -> int:
    return int(harness.rows("SELECT COUNT(*) FROM messages WHERE direction = 'in'")[0][0])


async def test_mail_for_other_addresses_is_refused(harness: Harness) -> None:
    """RCPT for any address but the helpline's is refused with 550 and nothing is stored."""
    with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
        await mail(harness, letter(CONTACT, "hello"), sender=CONTACT, recipients=["someone@elsewhere.example"])
    assert refused.value.code == 550
    assert stored_messages(harness) == 0


async def test_helpline_address_matches_whatever_its_case(harness: Harness) -> None:
    """The helpline's address is accepted however the sender capitalises it."""
    response = await mail(harness, letter(CONTACT, "hello"), sender=CONTACT, recipients=[HELPLINE_ADDRESS.upper()])
    assert response.code == 250
    assert stored_messages(harness) == 1


async def test_relay_attempt_among_our_recipients_is_refused_for_the_others(harness: Harness) -> None:
    """With our address and a stranger's, only ours is accepted: the server relays nothing."""
    session = await RawSmtp.connect(smtp_port(harness))
    assert (await session.send(b"EHLO client.example\r\n")).startswith("250")
    assert (await session.send(f"MAIL FROM:<{CONTACT}>\r\n".encode())).startswith("250")
    assert (await session.send(b"RCPT TO:<victim@elsewhere.example>\r\n")).startswith("550 5.1.1")
    assert (await session.send(f"RCPT TO:<{HELPLINE_ADDRESS}>\r\n".encode())).startswith("250")
    assert (await session.send(b"DATA\r\n")).startswith("354")
    body = f"From: {CONTACT}\r\nSubject: hi\r\n\r\nhello\r\n.\r\n".encode()
    assert (await session.send(body)).startswith("250")
    await session.close()
    assert stored_messages(harness) == 1


async def test_declared_oversize_is_refused_at_mail(harness: Harness) -> None:
    """A SIZE over the limit is refused with 552 before any data is sent."""
    limit = harness.settings.email.max_message_bytes
    session = await RawSmtp.connect(smtp_port(harness))
    ehlo = await session.send(b"EHLO client.example\r\n")
    assert f"SIZE {limit}" in ehlo
    assert (await session.send(f"MAIL FROM:<{CONTACT}> SIZE={limit + 1}\r\n".encode())).startswith("552")
    await session.close()


async def test_fifty_megabyte_message_is_refused_and_the_server_carries_on(harness: Harness) -> None:
    """A 50 MB message is refused with 552, nothing is stored, and the next message is taken as usual."""
    line = b"A" * 998 + b"\r\n"
    huge = f"From: {CONTACT}\r\nSubject: big\r\n\r\n".encode() + line * (50 * 1024 * 1024 // len(line))
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await mail(harness, huge, sender=CONTACT)
    assert refused.value.code == 552
    assert stored_messages(harness) == 0
    assert (await mail(harness, letter(CONTACT, "small one"), sender=CONTACT)).code == 250
    assert stored_messages(harness) == 1


async def test_message_without_a_usable_sender_is_refused(harness: Harness) -> None:
    """No From header and no usable envelope sender: 550 5.1.7, since there is nobody to answer."""
    raw = b"Subject: who am I\r\n\r\nno sender anywhere\r\n"
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await mail(harness, raw, sender="nobody")
    assert refused.value.code == 550
    assert "5.1.7" in refused.value.message
    assert stored_messages(harness) == 0


async def test_envelope_sender_stands_in_for_a_missing_from(harness: Harness) -> None:
    """Without a From header, replies go to the envelope sender."""
    raw = b"Subject: hi\r\n\r\nplease reply\r\n"
    assert (await mail(harness, raw, sender=CONTACT)).code == 250
    assert stored_messages(harness) == 1


async def test_no_auth_and_no_starttls_without_a_certificate(harness: Harness) -> None:
    """Contacts never sign in, so AUTH is not offered; without a certificate neither is STARTTLS."""
    session = await RawSmtp.connect(smtp_port(harness))
    ehlo = await session.send(b"EHLO client.example\r\n")
    assert "AUTH" not in ehlo
    assert "STARTTLS" not in ehlo
    assert (await session.send(b"AUTH PLAIN AGFkbWluAHNlY3JldA==\r\n"))[:1] == "5"
    await session.close()


async def test_garbage_commands_get_errors_not_crashes(harness: Harness) -> None:
    """Unknown commands, binary junk and data before a recipient earn 5xx replies; the session goes on."""
    session = await RawSmtp.connect(smtp_port(harness))
    assert (await session.send(b"EHLO client.example\r\n")).startswith("250")
    assert (await session.send(b"XYZZY\r\n")).startswith("500")
    assert (await session.send(b"\xff\xfe\x00\x80junk\r\n")).startswith("500")
    assert (await session.send(b"DATA\r\n")).startswith("503")
    assert (await session.send(b"MAIL FROM:<<<>>>\r\n"))[:1] == "5"
    assert (await session.send(b"NOOP\r\n")).startswith("250")
    assert (await session.send(b"QUIT\r\n")).startswith("221")
    await session.close()


async def test_stopping_ends_open_sessions(harness: Harness) -> None:
    """A server that stops closes idle SMTP sessions instead of leaving them hanging."""
    session = await RawSmtp.connect(smtp_port(harness))
    assert (await session.send(b"EHLO client.example\r\n")).startswith("250")
    await harness.close()
    assert await session.reply() == "(closed)"
    await session.close()
