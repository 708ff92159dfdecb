"""Sending replies by email through an SMTP relay (aiosmtplib), one session per reply.

Each reply is plain text from ``email.from_address`` with our own Message-ID (random, so that nobody
can guess it and slip a message into a conversation), and ``In-Reply-To``/``References`` taken from the
conversation's reply context, so the contact's mail client shows it in their thread. The Message-ID is
registered as the conversation's thread key before the message leaves, so the contact's answer finds
its conversation even from another address.

Failures, by where they happen (the outbox retries transient ones with backoff):

- before DATA (connect, STARTTLS, AUTH, MAIL, RCPT) nothing was sent: a 4xx reply or a dropped
  connection is transient, a 5xx permanent (``smtp_<code>``);
- a reply to DATA is definite in the same way;
- a connection lost or timed out during DATA may have delivered it: unconfirmed.

Relay replies can quote the recipient's address, so only the numeric code travels onward, and every
library exception is raised ``from None``.
"""

from __future__ import annotations

import secrets
import ssl
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import aiosmtplib

from helpline.channels.email.addresses import domain_of, normalise_address
from helpline.channels.email.context import ReplyContext
from helpline.channels.email.intake import CHANNEL
from helpline.clock import Clock
from helpline.core.threads import Threads
from helpline.errors import (
    ConfigError,
    PermanentProviderError,
    StoreError,
    TransientProviderError,
    UnconfirmedSendError,
)

# Seven-bit bodies and CRLF line ends: any relay accepts them unchanged.
_POLICY = policy.SMTP.clone(cte_type="7bit")
_POLICY_UTF8 = policy.SMTPUTF8.clone(cte_type="7bit")


def _by_code(code: int) -> TransientProviderError | PermanentProviderError:
    name = f"smtp_{code}"
    if 400 <= code < 500:
        return TransientProviderError(name, status=code)
    if 500 <= code < 600:
        return PermanentProviderError(name, status=code)
    return TransientProviderError("smtp_protocol", status=code)


def _relay_tls(ca_file: Path) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=str(ca_file))
    except (OSError, ssl.SSLError):
        raise ConfigError("email.relay_ca_file: cannot load the certificates it names") from None


class SmtpRelaySender:
    """Implements ``core.ports.Sender`` for email."""

    def __init__(
        self,
        threads: Threads,
        clock: Clock,
        *,
        host: str,
        port: int,
        starttls: bool,
        username: str,
        password: str,
        from_address: str,
        default_subject: str,
        timeout: float,
        ca_file: Path | None = None,
    ) -> None:
        self._threads = threads
        self._clock = clock
        self._host = host
        self._port = port
        self._starttls = starttls
        self._username = username
        self._password = password
        self._from = from_address
        self._default_subject = default_subject
        self._timeout = timeout
        self._tls_context = _relay_tls(ca_file) if ca_file is not None else None

    @property
    def configured(self) -> bool:
        return bool(self._host and self._from)

    async def send(self, address: str, body: str, ref: str) -> str:
        """Send ``body`` to ``address`` in its conversation's thread; returns our Message-ID."""
        if not self.configured:
            raise PermanentProviderError("email_not_configured")
        recipient = normalise_address(address)
        if recipient is None:
            raise PermanentProviderError("email_address_invalid")
        try:
            context = ReplyContext.loads(await self._threads.context_for(ref))
            message_id = f"<{secrets.token_urlsafe(24)}@{domain_of(self._from)}>"
            # Before sending: once it is out, the contact may answer at once.
            await self._threads.name_reply(ref, CHANNEL, message_id)
        except StoreError:
            raise TransientProviderError("store_unavailable") from None
        utf8 = not (recipient.isascii() and self._from.isascii())
        message = self._compose(recipient, body, context, message_id, utf8=utf8)
        await self._deliver(recipient, message, utf8=utf8)
        return message_id

    def _compose(self, recipient: str, body: str, context: ReplyContext, message_id: str, *, utf8: bool) -> bytes:
        message = EmailMessage(policy=_POLICY_UTF8 if utf8 else _POLICY)
        message["From"] = self._from
        message["To"] = recipient
        message["Subject"] = context.reply_subject(self._default_subject)
        message["Date"] = format_datetime(self._clock.now())
        message["Message-ID"] = message_id
        chain = context.reference_chain()
        if context.message_id:
            message["In-Reply-To"] = context.message_id
        if chain:
            message["References"] = " ".join(chain)
        message.set_content(body)
        return message.as_bytes()

    async def _deliver(self, recipient: str, message: bytes, *, utf8: bool) -> None:
        client = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            timeout=self._timeout,
            start_tls=self._starttls,
            local_hostname=domain_of(self._from),
            tls_context=self._tls_context,
        )
        try:
            await self._open(client)
            await self._envelope(client, recipient, utf8=utf8)
            try:
                await client.data(message)
            except aiosmtplib.SMTPResponseException as exc:
                raise _by_code(exc.code) from None
            except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError):
                # The message may have arrived before the connection went.
                raise UnconfirmedSendError("no_answer") from None
        finally:
            await self._close(client)

    async def _open(self, client: aiosmtplib.SMTP) -> None:
        try:
            await client.connect()
        except aiosmtplib.SMTPConnectResponseError as exc:
            raise _by_code(exc.code) from None
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPTimeoutError, aiosmtplib.SMTPServerDisconnected, OSError):
            raise TransientProviderError("smtp_connect") from None
        except (aiosmtplib.SMTPException, ssl.SSLError):
            # STARTTLS refused or the handshake failed: never fall back to sending in the clear.
            raise TransientProviderError("smtp_tls") from None
        if not self._username:
            return
        try:
            await client.login(self._username, self._password)
        except (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPNotSupported):
            raise TransientProviderError("smtp_auth") from None
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError):
            raise TransientProviderError("smtp_connect") from None
        except aiosmtplib.SMTPException:
            raise TransientProviderError("smtp_auth") from None

    async def _envelope(self, client: aiosmtplib.SMTP, recipient: str, *, utf8: bool) -> None:
        options: list[str] = []
        try:
            if utf8:
                if client.is_ehlo_or_helo_needed:
                    await client.ehlo()
                if not client.supports_extension("smtputf8"):
                    raise PermanentProviderError("smtp_utf8_unsupported")
                options.append("SMTPUTF8")
            await client.mail(self._from, options=options, encoding="utf-8")
            await client.rcpt(recipient, encoding="utf-8")
        except aiosmtplib.SMTPResponseException as exc:
            raise _by_code(exc.code) from None
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError):
            raise TransientProviderError("smtp_connect") from None

    @staticmethod
    async def _close(client: aiosmtplib.SMTP) -> None:
        if not client.is_connected:
            return
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()
