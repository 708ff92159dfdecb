"""Turning domain objects into the JSON the console reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from helpline.clock import to_text
from helpline.core.conversations import ConversationView
from helpline.core.models import Conversation, Message, Note, User
from helpline.core.risk import Signal
from helpline.core.risk_meaning import MeaningMatch

# Provider and worker codes, as sentences a volunteer can act on.
_DELIVERY_ERRORS = {
    "21211": "The contact's number is not a valid phone number",
    "21408": "Sending to this region is not enabled on the SMS account",
    "21610": "The contact has opted out of messages from this number",
    "21612": "This number cannot be reached from the helpline's number",
    "21614": "The contact's number is not a mobile number",
    "30003": "The contact's phone is switched off or unreachable",
    "30004": "The contact's phone has blocked this message",
    "30005": "The contact's number is unknown or no longer exists",
    "30006": "The contact's number is a landline or cannot receive SMS",
    "30007": "The message was filtered by the mobile network",
    "30008": "The mobile network could not deliver it",
    "sms_not_configured": "SMS sending is not configured on this server",
    "channel_disabled": "This channel is turned off on this server",
    "no_address": "The contact's address is no longer held, so this reply cannot be sent",
    "too_many_attempts": "The provider could not be reached after several attempts",
    "unreadable": "The stored reply or address failed its integrity check, so it was not sent",
    "email_not_configured": "Email sending is not configured on this server",
    "email_address_invalid": "The contact's email address cannot be written to",
    "store_unavailable": "The server could not prepare the email; it was not sent",
    "smtp_connect": "The mail relay could not be reached",
    "smtp_tls": "The mail relay did not offer a secure connection (STARTTLS), so nothing was sent",
    "smtp_auth": "The mail relay refused the helpline's sign-in",
    "smtp_protocol": "The mail relay answered in a way the server did not understand",
    "smtp_utf8_unsupported": "The mail relay cannot send to an address with non-English characters",
    "smtp_421": "The mail relay is too busy just now",
    "smtp_450": "The contact's mailbox is not available just now",
    "smtp_451": "The mail relay had a temporary problem",
    "smtp_452": "The mail relay or the contact's mailbox is out of space",
    "smtp_550": "The contact's email address was refused: it may not exist",
    "smtp_551": "The contact's email address is not handled by the mail relay",
    "smtp_552": "The contact's mailbox is full or the reply was too large",
    "smtp_553": "The contact's email address is not valid",
    "smtp_554": "The mail relay refused the message",
}


def delivery_error(code: str | None) -> str | None:
    if code is None:
        return None
    text = _DELIVERY_ERRORS.get(code, "The provider refused the message")
    return f"{text} ({code})."


def conversation_summary(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "channel": conversation.channel,
        "status": conversation.status,
        "waiting_since": to_text(conversation.waiting_since),
        "priority": conversation.priority,
        "assignee": conversation.assignee_name,
        "returning": conversation.record_id is not None,
        "contact_left": conversation.contact_left_at is not None,
    }


def queue_entry(
    conversation: Conversation,
    user: User,
    unanswered: Mapping[str, tuple[int, datetime]],
    why: Mapping[str, tuple[str, str]],
) -> dict[str, Any]:
    """A queue row: why it is urgent; one the user holds says how many contact messages wait, since when."""
    entry = conversation_summary(conversation)
    top = why.get(conversation.id)
    entry["risk"] = {"category": top[0], "reason": top[1]} if top else None
    if conversation.assignee_id == user.id and conversation.status == "active":
        count, since = unanswered.get(conversation.id, (0, None))
        entry["unread"] = count
        entry["oldest_unanswered"] = to_text(since) if since is not None else None
    return entry


_CONTACT_LEFT = {
    "ended": "The contact ended the chat.",
    "quick_exit": "The contact left the chat with the quick exit button.",
    "idle": "The chat timed out: the contact had been inactive for too long.",
}


def contact_left(conversation: Conversation) -> dict[str, Any] | None:
    """That the contact left a live chat (web chat), and how: replies can no longer reach them."""
    if conversation.contact_left_at is None:
        return None
    text = _CONTACT_LEFT.get(conversation.contact_left_reason or "", "The contact left the chat.")
    return {
        "at": to_text(conversation.contact_left_at),
        "reason": conversation.contact_left_reason,
        "text": f"{text} Replies can no longer reach them.",
    }


def _system_lines(conversation: Conversation) -> list[dict[str, Any]]:
    """Status lines shown in the transcript among the messages; never sent to anyone."""
    left = contact_left(conversation)
    if left is None:
        return []
    line = {"id": f"{conversation.id}.left", "seq": None, "direction": "system", "body": left["text"]}
    return [
        {
            **line,
            "created_at": left["at"],
            "author": "System",
            "delivery": None,
            "delivery_error": None,
            "risk": [],
            "meaning": [],
        }
    ]


def message(item: Message, risk: Sequence[Signal] = (), meaning: Sequence[MeaningMatch] = ()) -> dict[str, Any]:
    return {
        "id": item.id,
        "seq": item.seq,
        "direction": item.direction,
        "body": item.body,
        "created_at": to_text(item.created_at),
        "author": item.author if item.author or item.direction == "in" else "Automatic message",
        "delivery": item.delivery,
        "delivery_error": delivery_error(item.delivery_error),
        "risk": [risk_signal(item.body, s) for s in risk],
        "meaning": [meaning_match(m) for m in meaning],
    }


def meaning_match(match: MeaningMatch) -> dict[str, Any]:
    """What the meaning layer read in a message: the prototype it is similar in meaning to, and how strongly."""
    return {
        "category": match.category,
        "prototype": match.prototype,
        "strength": match.strength,
        "weight": int(match.band),
    }


def risk_signal(body: str, signal: Signal) -> dict[str, Any]:
    """Why some words in a message matter, and where they are in its ``body``.

    ``start`` and ``end`` count UTF-16 code units, as JavaScript's ``String.slice`` does, so an emoji
    before the words does not shift the console's highlight.
    """
    return {
        "category": signal.category,
        "reason": signal.reason,
        "weight": int(signal.weight),
        "start": _utf16_length(body[: signal.start]),
        "end": _utf16_length(body[: signal.end]),
    }


def _utf16_length(text: str) -> int:
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def conversation_view(view: ConversationView) -> dict[str, Any]:
    conversation = view.conversation
    handovers = [n for n in view.notes if n.kind == "handover"]
    return {
        **conversation_summary(conversation),
        "outcome": conversation.outcome,
        "record_id": conversation.record_id,
        "blocked": view.blocked,
        "handover": handover(handovers[-1]) if handovers else None,
        "messages": [message(m, view.risk.get(m.id, ()), view.meaning.get(m.id, ())) for m in view.messages]
        + _system_lines(conversation),
        "contact_left_detail": contact_left(conversation),
        "notes": [note(n) for n in view.notes],
        "whispers": [note(n) for n in view.whispers],
        "joined": view.joined,
        # States only, no notes: enough for the volunteer who raised a flag to see where it stands.
        "escalations": [
            {"id": e.id, "category": e.category, "level": e.level, "state": e.state, "raised_at": to_text(e.raised_at)}
            for e in view.escalations
        ],
    }


def note(item: Note) -> dict[str, Any]:
    return {
        "id": item.id,
        "author": item.author,
        "kind": item.kind,
        "body": item.body,
        "created_at": to_text(item.created_at),
    }


def handover(item: Note) -> dict[str, Any]:
    """The latest handover note, shown first to whoever holds the conversation next."""
    return {"from": item.author, "note": item.body, "at": to_text(item.created_at)}
