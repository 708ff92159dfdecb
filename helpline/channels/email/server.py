"""The inbound SMTP server (aiosmtpd): mail for the helpline's addresses in, everything else refused.

Replies a sending server gets:

- ``550 5.1.1`` at RCPT for any address not in ``email.addresses``;
- ``552`` when the message (or its declared SIZE) is over ``email.max_message_bytes`` — aiosmtpd stops
  keeping data at the limit, so a huge message never sits in memory;
- ``550 5.6.0`` for a message with a bare CR or LF: the line ends SMTP smuggling hides a second message
  behind (``\\n.\\n``, ``\\r.\\r``…) are refused whole, so no two servers can disagree about where it ends;
- ``550 5.1.7`` when no sender address can be read;
- ``250`` only after the message is committed; ``451`` (try again later) if storing it failed.

aiosmtpd's own loggers write client addresses, envelope addresses and every line of every message at
INFO and DEBUG, so they are switched off; this module logs outcomes with ids only. STARTTLS is offered
when a certificate is configured; AUTH is never offered, since contacts do not sign in.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from helpline.channels.email.addresses import normalise_address
from helpline.channels.email.intake import EmailIntake
from helpline.errors import ConfigError
from helpline.log import get_logger

log = get_logger(__name__)

_BARE_LINE_END = re.compile(rb"\r(?!\n)|(?<!\r)\n")
MAX_RECIPIENTS = 20
COMMAND_LIMIT = 100
_LIBRARY_LOGGERS = ("mail.log", "mail.debug")


def server_tls_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """The TLS context STARTTLS uses; a ConfigError naming the setting if the files cannot be loaded."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_file, key_file)
    except (OSError, ssl.SSLError):
        raise ConfigError("email.tls_cert_file / email.tls_key_file: cannot load the certificate and key") from None
    return context


class SmtpHandler:
    """aiosmtpd's handler: checks recipients and hands each message to the intake."""

    def __init__(self, intake: EmailIntake, addresses: frozenset[str]) -> None:
        self._intake = intake
        self._addresses = addresses

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if normalise_address(address) not in self._addresses:
            return "550 5.1.1 No such mailbox here"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        raw = envelope.original_content or b""
        # Not kept on the envelope longer than needed.
        envelope.content = envelope.original_content = None
        if _BARE_LINE_END.search(raw):
            log.info("email.refused", reason="bare_line_end")
            return "550 5.6.0 Lines must end with CRLF; a bare CR or LF is not accepted"
        try:
            taken = await self._intake.take(raw, envelope.mail_from or "")
        except Exception as exc:  # noqa: BLE001 - the sending server must hear "try again", never a traceback
            log.error("email.store_failed", error=type(exc).__name__)
            return "451 4.3.0 The message could not be stored; please try again later"
        if taken.outcome == "no_sender":
            return "550 5.1.7 The message has no usable sender address"
        return "250 2.0.0 OK"

    async def handle_exception(self, error: Exception) -> str:
        log.error("email.smtp_error", error=type(error).__name__)
        return "451 4.3.0 Temporary failure; please try again later"


class _TrackedSMTP(SMTP):
    """An SMTP session that the server can find again, to end it when the server stops."""

    def __init__(self, registry: set[SMTP], handler: SmtpHandler, **options: Any) -> None:
        super().__init__(handler, **options)
        self._registry = registry
        registry.add(self)

    def connection_lost(self, error: Exception | None) -> None:
        self._registry.discard(self)
        super().connection_lost(error)


class SmtpServer:
    """Runs the SMTP server on the current event loop: ``start`` and ``stop`` with the application."""

    def __init__(
        self,
        handler: SmtpHandler,
        *,
        host: str,
        port: int,
        hostname: str,
        max_message_bytes: int,
        tls_context: ssl.SSLContext | None,
        timeout: float = 300.0,
    ) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._hostname = hostname
        self._max_message_bytes = max_message_bytes
        self._tls_context = tls_context
        self._timeout = timeout
        self._server: asyncio.Server | None = None
        self._sessions: set[SMTP] = set()

    @property
    def port(self) -> int:
        """The port it listens on (the one chosen by the system when configured as 0)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        for name in _LIBRARY_LOGGERS:
            # Above CRITICAL: these loggers carry client IPs, envelope addresses and message lines.
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: self._session(loop), self._host, self._port)
        log.info("email.listening", port=self.port, starttls=self._tls_context is not None)

    def _session(self, loop: asyncio.AbstractEventLoop) -> SMTP:
        return _TrackedSMTP(
            self._sessions,
            self._handler,
            data_size_limit=self._max_message_bytes,
            enable_SMTPUTF8=True,
            hostname=self._hostname,
            ident="ESMTP",
            tls_context=self._tls_context,
            timeout=self._timeout,
            auth_exclude_mechanism=["LOGIN", "PLAIN"],
            command_call_limit=COMMAND_LIMIT,
            loop=loop,
        )

    async def stop(self) -> None:
        """Stop listening and end open sessions; safe to call twice."""
        if self._server is None:
            return
        self._server.close()
        for session in list(self._sessions):
            if session.transport is not None:
                session.transport.close()
        await self._server.wait_closed()
        self._server = None
        # Let the closed sessions' tasks see their cancellation before the loop moves on.
        await asyncio.sleep(0)
