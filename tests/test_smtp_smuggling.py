"""SMTP smuggling: a second message hidden behind a non-standard end of data is never taken, either way.

Inbound, a message is ended only by CRLF.CRLF, and any message containing a bare CR or LF — the line ends
smuggling variants use (``\\n.\\n``, ``\\r\\n.\\n``, ``\\r.\\r`` …) — is refused whole, so a server in
front of ours and ours can never disagree about where a message ends. Outbound, a volunteer's reply that
contains such sequences reaches the relay as one message, dot-stuffed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from helpline.settings import Settings
from tests.conftest import Harness
from tests.fakes.email_contact import HELPLINE_ADDRESS, RawSmtp, email_settings, letter, mail, smtp_port
from tests.fakes.smtp_sink import SmtpSink

CONTACT = "jo@example.net"
VICTIM = "victim@example.org"
END_VARIANTS = [b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r", b"\r\n.\r", b"\r.\r\n", b"\n.\r", b"\r.\n"]


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as running:
        yield running


@pytest.fixture
def settings(settings: Settings, sink: SmtpSink) -> Settings:
    return email_settings(settings, sink)


def smuggling(end: bytes) -> bytes:
    """A message whose body ends early by ``end`` and then carries a second, forged transaction."""
    first = f"From: {CONTACT}\r\nSubject: hello\r\n\r\nan ordinary message".encode()
    forged = (
        f"MAIL FROM:<{VICTIM}>\r\nRCPT TO:<{HELPLINE_ADDRESS}>\r\nDATA\r\n"
        f"From: {VICTIM}\r\nSubject: forged\r\n\r\nSMUGGLED text in the victim's name\r\n"
    ).encode()
    return first + end + forged + b".\r\n"


@pytest.mark.parametrize("end", END_VARIANTS, ids=[repr(e) for e in END_VARIANTS])
async def test_smuggled_message_is_refused_whole(harness: Harness, end: bytes) -> None:
    """Data with a bare-line-end "end of data" earns one 550 and stores neither message."""
    session = await RawSmtp.connect(smtp_port(harness))
    assert (await session.send(b"EHLO attacker.example\r\n")).startswith("250")
    assert (await session.send(f"MAIL FROM:<{CONTACT}>\r\n".encode())).startswith("250")
    assert (await session.send(f"RCPT TO:<{HELPLINE_ADDRESS}>\r\n".encode())).startswith("250")
    assert (await session.send(b"DATA\r\n")).startswith("354")
    answer = await session.send(smuggling(end))
    assert answer.startswith("550 5.6.0"), answer
    # The forged commands were data, never commands: the next reply is to our own NOOP.
    assert (await session.send(b"NOOP\r\n")).startswith("250")
    await session.close()
    assert harness.rows("SELECT COUNT(*) FROM messages") == [(0,)]
    assert harness.rows("SELECT COUNT(*) FROM conversations") == [(0,)]


async def test_proper_end_of_data_still_works_after_a_refusal(harness: Harness) -> None:
    """After a refused message, the same session can send a well-formed one."""
    session = await RawSmtp.connect(smtp_port(harness))
    await session.send(b"EHLO client.example\r\n")
    await session.send(f"MAIL FROM:<{CONTACT}>\r\n".encode())
    await session.send(f"RCPT TO:<{HELPLINE_ADDRESS}>\r\n".encode())
    await session.send(b"DATA\r\n")
    assert (await session.send(smuggling(b"\n.\n"))).startswith("550")
    await session.send(f"MAIL FROM:<{CONTACT}>\r\n".encode())
    await session.send(f"RCPT TO:<{HELPLINE_ADDRESS}>\r\n".encode())
    await session.send(b"DATA\r\n")
    assert (await session.send(f"From: {CONTACT}\r\n\r\nplain and proper\r\n.\r\n".encode())).startswith("250")
    await session.close()
    assert harness.rows("SELECT COUNT(*) FROM messages WHERE direction = 'in'") == [(1,)]


async def test_reply_with_end_of_data_sequences_reaches_the_relay_as_one_message(
    harness: Harness, sink: SmtpSink
) -> None:
    """A volunteer's reply containing CRLF.CRLF and smuggling variants is dot-stuffed: one message, whole."""
    await mail(harness, letter(CONTACT, "hello"), sender=CONTACT)
    volunteer = await harness.console("amira")
    [waiting] = await volunteer.queue()
    await volunteer.post(f"/api/conversations/{waiting['id']}/claim")
    await harness.send_outbox()
    sink.messages.clear()
    body = f"first line\r\n.\r\nMAIL FROM:<{VICTIM}>\r\n.\nsecond\n.\r\nthird\r\n..\r\nend"
    response = await volunteer.post(f"/api/conversations/{waiting['id']}/messages", {"body": body})
    assert response.status == 201
    await harness.send_outbox()
    [only] = sink.messages
    assert only.rcpt_tos == [CONTACT]
    lines = only.message.get_content().splitlines()
    assert lines == ["first line", ".", f"MAIL FROM:<{VICTIM}>", ".", "second", ".", "third", "..", "end"]
