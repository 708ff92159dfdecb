"""Hostile and broken mail over real SMTP: every message ends in safe text for the volunteer or a clear SMTP error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiosmtplib
import pytest

from helpline.settings import Settings
from tests.conftest import Harness
from tests.fakes.email_contact import email_settings, mail
from tests.fakes.smtp_sink import SmtpSink

CONTACT = "jo@example.net"
HEAD = f"From: {CONTACT}\r\nSubject: Re: test\r\n"


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as running:
        yield running


@pytest.fixture
def settings(settings: Settings, sink: SmtpSink) -> Settings:
    return email_settings(settings, sink)


async def shown(harness: Harness, raw: bytes) -> str:
    """Mail ``raw`` in (it must be taken) and return the text the volunteer sees."""
    assert (await mail(harness, raw, sender=CONTACT)).code == 250
    volunteer = await harness.console("amira")
    [waiting] = await volunteer.queue()
    conversation = await volunteer.conversation(waiting["id"])
    [body] = [m["body"] for m in conversation["messages"] if m["direction"] == "in"]
    return str(body)


async def test_malformed_mime_is_shown_as_text(harness: Harness) -> None:
    """A multipart with no closing boundary and a broken base64 part still shows its words."""
    raw = (
        f'{HEAD}Content-Type: multipart/mixed; boundary="zz"\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\n'
        "the words survive\r\n--zz\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        "!!notbase64\r\n"
    ).encode()
    assert await shown(harness, raw) == "the words survive\n\n(1 attachment was removed.)"


async def test_unknown_charset_is_shown_with_replacements(harness: Harness) -> None:
    """A charset nobody knows is read as UTF-8 and the bytes that are not are marked."""
    raw = HEAD.encode() + b"Content-Type: text/plain; charset=x-klingon\r\n\r\nQapla\xc3\xa9 \xff\r\n"
    assert await shown(harness, raw) == "Qapla\u00e9 \ufffd"


async def test_eight_bit_headers_are_taken(harness: Harness) -> None:
    """Raw UTF-8 and Latin-1 bytes in the headers are taken and shown readably."""
    raw = b"From: J\xc3\xb6 \xe9 <jo@example.net>\r\nSubject: Hilfe \xc3\xbc \xe9\r\n\r\nHallo\r\n"
    assert await shown(harness, raw) == "Subject: Hilfe \u00fc \ufffd\n\nHallo"


async def test_absurdly_nested_multiparts_are_taken_as_unreadable(harness: Harness) -> None:
    """Thousands of nested multiparts are taken and the volunteer is told the text could not be read."""
    head = "".join(f'Content-Type: multipart/mixed; boundary="d{i}"\r\n\r\n--d{i}\r\n' for i in range(3000))
    raw = f"{HEAD}{head}Content-Type: text/plain\r\n\r\nlost\r\n".encode()
    assert await shown(harness, raw) == "(The text of this email could not be read.)"


async def test_attachments_are_counted_for_the_volunteer(harness: Harness) -> None:
    """Attachments are not stored; the volunteer reads how many were removed."""
    raw = (
        f'{HEAD}Content-Type: multipart/mixed; boundary="a"\r\n\r\n--a\r\nContent-Type: text/plain\r\n\r\n'
        "photo attached\r\n--a\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=me.jpg\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n/9j/4AAQSkZJRg==\r\n"
        "--a\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--a--\r\n"
    ).encode()
    assert await shown(harness, raw) == "photo attached\n\n(2 attachments were removed.)"
    assert harness.rows("SELECT COUNT(*) FROM messages WHERE direction = 'in'") == [(1,)]


async def test_empty_message_says_so(harness: Harness) -> None:
    """A mail with no text at all still reaches the volunteer, saying it had none."""
    assert await shown(harness, HEAD.encode() + b"\r\n") == "(This email had no text.)"


async def test_long_text_is_cut_and_the_volunteer_told(harness: Harness) -> None:
    """Text over email.max_body_chars is cut, with a note saying so."""
    limit = harness.settings.email.max_body_chars
    line = ("word " * 150).strip() + "\r\n"
    raw = HEAD.encode() + b"\r\n" + (line * (limit // len(line) + 5)).encode()
    body = await shown(harness, raw)
    assert body.endswith(f"(The rest of this email was cut: it was longer than {limit} characters.)")
    assert len(body) < limit + 200


async def test_overlong_line_is_a_clear_smtp_error(harness: Harness) -> None:
    """A line longer than SMTP allows is refused with 500 and nothing is stored."""
    raw = HEAD.encode() + b"\r\n" + b"x" * 5000 + b"\r\n"
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await mail(harness, raw, sender=CONTACT)
    assert refused.value.code == 500
    assert harness.rows("SELECT COUNT(*) FROM messages") == [(0,)]


async def test_nul_and_escape_bytes_are_removed(harness: Harness) -> None:
    """NUL bytes and terminal escapes in a body are removed before it is stored."""
    raw = HEAD.encode() + b"\r\nbefore\x00after \x1b[2Jcleared\r\n"
    assert await shown(harness, raw) == "beforeafter [2Jcleared"
