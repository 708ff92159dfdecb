"""STARTTLS both ways: offered inbound with a certificate; required, verified and signed in to the relay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosmtplib
import pytest

from helpline.app import build
from helpline.settings import Settings
from tests.conftest import FakeClock, Harness
from tests.fakes.email_contact import HELPLINE_ADDRESS, RawSmtp, email_settings, letter, mail, smtp_port
from tests.fakes.smtp_sink import SmtpSink, make_certificate

CONTACT = "jo@example.net"
RELAY_LOGIN = ("helpline", "relay-secret-password")


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return make_certificate(tmp_path)


@pytest.fixture
async def sink(certificate: tuple[Path, Path]) -> AsyncIterator[SmtpSink]:
    async with SmtpSink(certificate=certificate, login=RELAY_LOGIN) as running:
        yield running


@pytest.fixture
def settings(settings: Settings, sink: SmtpSink, certificate: tuple[Path, Path]) -> Settings:
    cert, key = certificate
    return email_settings(settings, sink).replace(
        "email",
        tls_cert_file=cert,
        tls_key_file=key,
        relay_starttls=True,
        relay_ca_file=cert,
        relay_username=RELAY_LOGIN[0],
        relay_password=RELAY_LOGIN[1],
    )


async def test_inbound_mail_over_starttls(harness: Harness, certificate: tuple[Path, Path]) -> None:
    """With a certificate configured, STARTTLS is offered and a verifying client delivers over it."""
    session = await RawSmtp.connect(smtp_port(harness))
    assert "STARTTLS" in await session.send(b"EHLO client.example\r\n")
    await session.close()

    message = letter(CONTACT, "sent over TLS")
    async with aiosmtplib.SMTP(
        hostname="127.0.0.1", port=smtp_port(harness), start_tls=True, cert_bundle=str(certificate[0]), timeout=30
    ) as client:
        assert client.get_transport_info("sslcontext") is not None
        await client.mail(CONTACT)
        await client.rcpt(HELPLINE_ADDRESS)
        assert (await client.data(message.as_bytes())).code == 250
    assert harness.rows("SELECT COUNT(*) FROM messages WHERE direction = 'in'") == [(1,)]


async def test_replies_go_over_starttls_with_auth(harness: Harness, sink: SmtpSink) -> None:
    """The relay is reached over verified STARTTLS and signed in to before the reply is handed over."""
    await mail(harness, letter(CONTACT, "hello"), sender=CONTACT)
    assert await harness.send_outbox() == 1  # the greeting
    assert sink.logins == [RELAY_LOGIN[0]]
    [greeting] = sink.messages
    assert greeting.rcpt_tos == [CONTACT]


async def test_relay_without_starttls_gets_nothing_in_the_clear(
    harness: Harness, clock: FakeClock, sink: SmtpSink
) -> None:
    """A relay that offers no STARTTLS, when it is required, is sent nothing; the reply waits to be retried."""
    await mail(harness, letter(CONTACT, "hello"), sender=CONTACT)
    async with SmtpSink() as plain:
        elsewhere = build(harness.settings.replace("email", relay_port=plain.port), clock)
        await elsewhere.store.open()
        try:
            assert await elsewhere.outbound.run_once() == 1
        finally:
            await elsewhere.store.close()
        assert plain.messages == []
    assert sink.messages == []
    assert harness.rows("SELECT state, attempts FROM outbox") == [("pending", 1)]
    assert harness.rows("SELECT delivery FROM messages WHERE direction = 'out'") == [("queued",)]
