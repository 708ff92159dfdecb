"""Turning domain objects into the JSON the console reads."""

from __future__ import annotations

from typing import Any

from helpline.clock import to_text
from helpline.core.conversations import ConversationView
from helpline.core.models import Conversation, Message, Note

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
    }


def message(item: Message) -> dict[str, Any]:
    return {
        "id": item.id,
        "seq": item.seq,
        "direction": item.direction,
        "body": item.body,
        "created_at": to_text(item.created_at),
        "author": item.author if item.author or item.direction == "in" else "Automatic message",
        "delivery": item.delivery,
        "delivery_error": delivery_error(item.delivery_error),
    }


def conversation_view(view: ConversationView) -> dict[str, Any]:
    conversation = view.conversation
    handovers = [n for n in view.notes if n.kind == "handover"]
    return {
        **conversation_summary(conversation),
        "outcome": conversation.outcome,
        "record_id": conversation.record_id,
        "blocked": view.blocked,
        "handover": handover(handovers[-1]) if handovers else None,
        "messages": [message(m) for m in view.messages],
        "notes": [note(n) for n in view.notes],
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
