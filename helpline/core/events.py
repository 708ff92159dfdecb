"""Events published after a commit, for console sockets and workers.

Events carry ids and sequence numbers only — never text or addresses — and the database stays the source
of truth: a listener that missed events reads the current state again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Event:
    """Something changed about one conversation."""

    name: ClassVar[str] = "event"
    conversation_id: str


@dataclass(frozen=True)
class ConversationOpened(Event):
    """A new conversation is waiting in the queue."""

    name: ClassVar[str] = "conversation.opened"


@dataclass(frozen=True)
class MessageAdded(Event):
    """A message was added, inbound or outbound."""

    name: ClassVar[str] = "message.added"
    message_id: str
    seq: int


@dataclass(frozen=True)
class ConversationClaimed(Event):
    """A volunteer took the conversation."""

    name: ClassVar[str] = "conversation.claimed"
    assignee: str


@dataclass(frozen=True)
class ConversationClosed(Event):
    """The conversation was closed."""

    name: ClassVar[str] = "conversation.closed"
    by: str = ""  # who closed it (a username), or empty when nobody did (the system)


@dataclass(frozen=True)
class DeliveryChanged(Event):
    """An outbound message's delivery state changed."""

    name: ClassVar[str] = "delivery.changed"
    message_id: str
    delivery: str


@dataclass(frozen=True)
class OutboxReady(Event):
    """A reply was queued: the outbound worker should look."""

    name: ClassVar[str] = "outbox.ready"


@dataclass(frozen=True)
class ConversationTransferred(Event):
    """The conversation moved to another volunteer, or back to the queue (``assignee`` None)."""

    name: ClassVar[str] = "conversation.transferred"
    assignee: str | None
    by: str = ""  # who moved it (a username)


@dataclass(frozen=True)
class NoteAdded(Event):
    """A staff note was added to the conversation."""

    name: ClassVar[str] = "note.added"
    note_id: str


@dataclass(frozen=True)
class StaffChanged(Event):
    """Someone's availability or holdings changed; ``conversation_id`` is empty."""

    name: ClassVar[str] = "staff.changed"


@dataclass(frozen=True)
class ContactLeft(Event):
    """The contact left a live chat: ``reason`` is ended, quick_exit or idle. Nothing more can reach them."""

    name: ClassVar[str] = "contact.left"
    reason: str


@dataclass(frozen=True)
class ContactTyping(Event):
    """The contact started (``active``) or stopped typing in a live chat."""

    name: ClassVar[str] = "contact.typing"
    active: bool


@dataclass(frozen=True)
class VolunteerTyping(Event):
    """The volunteer holding a live chat started (``active``) or stopped typing."""

    name: ClassVar[str] = "volunteer.typing"
    active: bool


@dataclass(frozen=True)
class EscalationRaised(Event):
    """A volunteer raised a safeguarding flag: supervisors are alerted."""

    name: ClassVar[str] = "escalation.raised"
    escalation_id: str
    level: str


@dataclass(frozen=True)
class EscalationAlert(Event):
    """An escalation is still unacknowledged: every supervisor is alerted again."""

    name: ClassVar[str] = "escalation.alert"
    escalation_id: str
    level: str


@dataclass(frozen=True)
class EscalationChanged(Event):
    """An escalation was acknowledged, decided or closed."""

    name: ClassVar[str] = "escalation.changed"
    escalation_id: str
    state: str


@dataclass(frozen=True)
class DisclosureChanged(Event):
    """A disclosure was requested, approved, refused or shown."""

    name: ClassVar[str] = "disclosure.changed"
    disclosure_id: str
    state: str


@dataclass(frozen=True)
class RiskRaised(Event):
    """The meaning layer read an inbound message as close to a risk: the view shows why, the queue may reorder."""

    name: ClassVar[str] = "risk.raised"
    message_id: str
    band: int


@dataclass(frozen=True)
class WhisperAdded(Event):
    """A supervisor whispered to the volunteer holding the conversation."""

    name: ClassVar[str] = "whisper.added"
    whisper_id: str


@dataclass(frozen=True)
class ConversationReturned(Event):
    """The holder left (``reason``: signed_out or away), so the conversation went back to the queue."""

    name: ClassVar[str] = "conversation.returned"
    reason: str
    holder: str
