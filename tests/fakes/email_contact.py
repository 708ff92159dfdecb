"""The contact's side of email: their mail client (aiosmtplib), a raw SMTP line for hostile input, and the
settings that turn the helpline's email channel on against a sink relay."""

from __future__ import annotations

import asyncio
import contextlib
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib

from helpline.settings import Settings
from tests.conftest import Harness
from tests.fakes.smtp_sink import SmtpSink

HELPLINE_ADDRESS = "help@helpline.test"
CONTACT_HOST = "contacts-laptop.example.net"


def email_settings(settings: Settings, sink: SmtpSink) -> Settings:
    """Email on: SMTP on a free loopback port, replies through the sink without TLS, short timeouts."""
    return settings.replace(
        "email",
        enabled=True,
        smtp_host="127.0.0.1",
        smtp_port=0,
        addresses=(HELPLINE_ADDRESS,),
        relay_host="127.0.0.1",
        relay_port=sink.port,
        relay_starttls=False,
        relay_timeout_seconds=1.0,
        from_address=HELPLINE_ADDRESS,
    )


def smtp_port(harness: Harness) -> int:
    server = harness.helpline.email_server
    assert server is not None, "email is not enabled in this harness"
    return server.port


def letter(
    sender: str,
    body: str,
    *,
    subject: str = "Please help",
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """A plain-text email, as a contact's mail client would write it."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = HELPLINE_ADDRESS
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="mail.example.net")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    message.set_content(body)
    return message


async def mail(
    harness: Harness, message: EmailMessage | bytes, *, sender: str, recipients: list[str] | None = None
) -> aiosmtplib.SMTPResponse:
    """Send as the contact's mail client does, MAIL FROM ``sender`` ("<>" for none); raises on refusals."""
    content = message if isinstance(message, bytes) else message.as_bytes(policy=policy.SMTP)
    async with aiosmtplib.SMTP(
        hostname="127.0.0.1", port=smtp_port(harness), local_hostname=CONTACT_HOST, start_tls=False, timeout=30
    ) as client:
        await client.mail("" if sender == "<>" else sender)
        for recipient in recipients or [HELPLINE_ADDRESS]:
            await client.rcpt(recipient)
        return await client.data(content)


class RawSmtp:
    """One SMTP connection driven byte by byte, for input no well-behaved client would send."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def connect(cls, port: int) -> RawSmtp:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        session = cls(reader, writer)
        greeting = await session.reply()
        assert greeting.startswith("220"), greeting
        return session

    async def reply(self) -> str:
        """One whole reply, multi-line ones joined; the code starts it."""
        lines: list[str] = []
        while True:
            line = await asyncio.wait_for(self._reader.readline(), 30)
            if not line:
                return "\n".join(lines) if lines else "(closed)"
            lines.append(line.decode("utf-8", "replace").rstrip("\r\n"))
            if len(line) < 4 or line[3:4] != b"-":
                return "\n".join(lines)

    async def send(self, data: bytes) -> str:
        """Write ``data`` and read the one reply it earns."""
        self._writer.write(data)
        await self._writer.drain()
        return await self.reply()

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()
