"""A fake SMTP relay: a real aiosmtpd server on 127.0.0.1 that keeps every message it is given.

It speaks real SMTP (EHLO, SIZE, 8BITMIME, SMTPUTF8, and — when given a certificate — STARTTLS and AUTH
PLAIN/LOGIN over it), so the server's relay sender is tested through aiosmtplib exactly as in production.
A test can script failures: a reply code for the next MAIL, RCPT or DATA, or a stall after the data
(the answer never comes, as when a connection dies mid-send). ``make_certificate`` writes a self-signed
certificate for 127.0.0.1 so that STARTTLS can be tested with verification on.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate and key for 127.0.0.1 and localhost, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "smtp-cert.pem"
    key_path = directory / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@dataclass(frozen=True)
class Delivered:
    """One message the sink accepted."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    message: EmailMessage


@dataclass
class _Script:
    failures: dict[str, list[str]] = field(default_factory=lambda: {"MAIL": [], "RCPT": [], "DATA": []})
    stall_data: int = 0


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_MAIL(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        failures = self._sink.script.failures["MAIL"]
        if failures:
            return failures.pop(0)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        failures = self._sink.script.failures["RCPT"]
        if failures:
            return failures.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        failures = self._sink.script.failures["DATA"]
        if failures:
            return failures.pop(0)
        content = envelope.original_content or b""
        if self._sink.script.stall_data:
            self._sink.script.stall_data -= 1
            self._sink.stalled.append(content)
            await asyncio.Event().wait()  # never answers; ends when the client or the sink closes
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self._sink.messages.append(Delivered(envelope.mail_from or "", list(envelope.rcpt_tos), content, message))
        return "250 2.0.0 Queued"


class SmtpSink:
    """The relay: ``async with SmtpSink() as sink`` listens on 127.0.0.1, ``sink.port``."""

    def __init__(self, *, certificate: tuple[Path, Path] | None = None, login: tuple[str, str] | None = None) -> None:
        self._tls: ssl.SSLContext | None = None
        if certificate is not None:
            self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._tls.load_cert_chain(*certificate)
        self._login = login
        self.messages: list[Delivered] = []
        self.stalled: list[bytes] = []
        self.logins: list[str] = []
        self.script = _Script()
        self._server: asyncio.Server | None = None
        self._sessions: list[SMTP] = []

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    def fail_next(self, reply: str, *, at: str = "DATA", times: int = 1) -> None:
        """Answer the next ``times`` MAIL, RCPT or DATA commands with ``reply`` (e.g. "451 4.3.0 Busy")."""
        self.script.failures[at].extend([reply] * times)

    def stall_next(self) -> None:
        """Take the next message's data, then never answer."""
        self.script.stall_data += 1

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if self._login is None or not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        given = (data.login.decode(), data.password.decode())
        if given != self._login:
            return AuthResult(success=False, handled=False)
        self.logins.append(given[0])
        return AuthResult(success=True)

    def _session(self) -> SMTP:
        options: dict[str, Any] = {"enable_SMTPUTF8": True, "hostname": "relay.test", "tls_context": self._tls}
        if self._login is not None:
            options.update(authenticator=self._authenticate, auth_required=True, auth_require_tls=True)
        session = SMTP(_Handler(self), loop=asyncio.get_running_loop(), **options)
        self._sessions.append(session)
        return session

    async def __aenter__(self) -> SmtpSink:
        self._server = await asyncio.get_running_loop().create_server(self._session, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.stop()

    async def stop(self) -> None:
        """Stop listening and drop every session, as a relay that goes down; safe to call twice."""
        if self._server is None:
            return
        self._server.close()
        for session in self._sessions:
            if session.transport is not None:
                session.transport.close()
        await self._server.wait_closed()
        self._server = None
        await asyncio.sleep(0)
