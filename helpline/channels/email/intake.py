"""One received email, whatever carried it, turned into the core's ``Inbound`` and stored.

The SMTP server hands every accepted message here; so would an HTTP relay webhook. What the volunteer
sees is the subject (unless it only says "Re: …"), the contact's own words, and a line saying how many
attachments were removed.

The idempotency key is the sender's address with the Message-ID (a sending server that lost our ``250``
will send the same message again, and it must not appear twice), or a hash of the raw message when it
has no Message-ID. Both reach the store only as a keyed HMAC.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Literal

from helpline.channels.email.addresses import normalise_address
from helpline.channels.email.context import ReplyContext, is_reply_subject
from helpline.channels.email.parsing import ParsedMail, parse_message
from helpline.core.conversations import Conversations
from helpline.core.models import Inbound
from helpline.log import get_logger

log = get_logger(__name__)

CHANNEL = "email"
NULL_SENDER = "<>"
Outcome = Literal["stored", "duplicate", "blocked", "bounce", "no_sender"]


@dataclass(frozen=True)
class Taken:
    """What became of one email."""

    outcome: Outcome
    conversation_id: str | None = None


def compose_body(parsed: ParsedMail, max_chars: int) -> str:
    """The text the volunteer reads: subject, the contact's words, and what was removed."""
    parts: list[str] = []
    if parsed.subject and not is_reply_subject(parsed.subject):
        parts.append(f"Subject: {parsed.subject}")
    if parsed.text:
        text = parsed.text
    elif parsed.unreadable:
        text = "(The text of this email could not be read.)"
    else:
        text = "(This email had no text.)"
    if len(text) > max_chars:
        cut = f"(The rest of this email was cut: it was longer than {max_chars} characters.)"
        text = f"{text[:max_chars].rstrip()}\n\n{cut}"
    parts.append(text)
    removed = parsed.attachments_removed
    if removed == 1:
        parts.append("(1 attachment was removed.)")
    elif removed > 1:
        parts.append(f"({removed} attachments were removed.)")
    return "\n\n".join(parts)


class EmailIntake:
    """Parses a raw message, then stores it through ``Conversations.receive``."""

    def __init__(self, conversations: Conversations, *, max_body_chars: int) -> None:
        self._conversations = conversations
        self._max_body_chars = max_body_chars

    async def take(self, raw: bytes, envelope_sender: str) -> Taken:
        """Store one message; returns once it is durable (or why it was not stored)."""
        if envelope_sender.strip() in ("", NULL_SENDER):
            # A delivery report: answering it could loop, and it is not from a contact.
            log.info("email.dropped", reason="bounce")
            return Taken("bounce")
        # Parsing is pure Python and can take a while on a large message: keep the event loop free.
        parsed = await asyncio.to_thread(parse_message, raw)
        sender = parsed.sender or normalise_address(envelope_sender)
        if sender is None:
            log.info("email.refused", reason="no_sender")
            return Taken("no_sender")
        if parsed.message_id:
            provider_id = f"{sender}\x00{parsed.message_id}"
        else:
            provider_id = "sha256:" + hashlib.sha256(raw).hexdigest()
        chain = list(parsed.references) or list(parsed.in_reply_to)
        context = ReplyContext.after(parsed.subject, parsed.message_id, chain)
        inbound = Inbound(
            CHANNEL,
            sender,
            provider_id,
            compose_body(parsed, self._max_body_chars),
            thread_refs=parsed.thread_refs,
            reply_context=context.dumps(),
            greet=not parsed.automatic,
        )
        received = await self._conversations.receive(inbound)
        log.info(
            "email.received",
            conversation_id=received.conversation_id,
            message_id=received.message_id,
            duplicate=received.duplicate,
            blocked=received.blocked,
            attachments_removed=parsed.attachments_removed,
            unreadable=parsed.unreadable,
        )
        if received.duplicate:
            return Taken("duplicate")
        if received.blocked:
            return Taken("blocked")
        return Taken("stored", received.conversation_id)
