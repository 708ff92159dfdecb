"""The domain's data, as plain frozen dataclasses.

Fields that hold an address or message text are excluded from ``repr`` so that they cannot reach a log
line or an exception message by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Role = Literal["volunteer", "supervisor", "admin"]
ROLES: tuple[Role, ...] = ("volunteer", "supervisor", "admin")
# Roles that answer contacts and so read conversations; an admin manages the service and reads none.
CONVERSATION_ROLES: frozenset[Role] = frozenset({"volunteer", "supervisor"})
Status = Literal["waiting", "active", "closed"]
Direction = Literal["in", "out"]
# Outbound delivery, in the order a message moves through it; the last three are final.
DELIVERY_ORDER = ("queued", "sending", "unknown", "sent", "delivered", "undelivered", "failed")
FINAL_DELIVERY = frozenset({"delivered", "undelivered", "failed"})


@dataclass(frozen=True)
class KeyRef:
    """A row's own data key, as stored: wrapped by a master key version."""

    table: str
    row_id: str
    wrapped: bytes = field(repr=False)
    kek_version: int


@dataclass(frozen=True)
class Inbound:
    """One message from a contact, normalised by its channel adapter."""

    channel: str
    address: str = field(repr=False)
    provider_message_id: str = field(repr=False)
    body: str = field(repr=False)
    # Threaded channels (email): the references this message quotes, tried before the sender's route,
    # and the channel's reply context, sealed into the vault (see core/threads.py).
    thread_refs: tuple[str, ...] = field(default=(), repr=False)
    reply_context: str = field(default="", repr=False)
    # False for mail sent by a machine (bounces, auto-replies): it is never answered automatically.
    greet: bool = True
    # True when the provider keeps its own record of the message, to be deleted once stored: the provider
    # message id is then kept, sealed, until that is done (core/provider_deletion.py).
    delete_at_provider: bool = False


@dataclass(frozen=True)
class Conversation:
    id: str
    channel: str
    status: Status
    assignee_id: str | None
    assignee_name: str | None
    priority: int
    created_at: datetime
    waiting_since: datetime
    closed_at: datetime | None
    outcome: str | None
    key: KeyRef | None
    last_seq: int
    record_id: str | None = None
    # Live channels (web chat): when and why the contact left; nothing sent after that can reach them.
    contact_left_at: datetime | None = None
    contact_left_reason: str | None = None
    # Why its priority is what it is: the top risk signal's category and reason, sealed (never the words).
    risk_why: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class StoredMessage:
    """A message as stored: its body sealed under the conversation's data key."""

    id: str
    conversation_id: str
    seq: int
    direction: Direction
    author_id: str | None
    author_name: str | None
    body: bytes = field(repr=False)
    created_at: datetime
    delivery: str | None
    delivery_error: str | None
    # The meaning layer's reading (JSON), sealed like the body; None until read, or when nothing was close.
    meaning: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Message:
    """A message opened for a reader."""

    id: str
    seq: int
    direction: Direction
    author: str | None
    body: str = field(repr=False)
    created_at: datetime
    delivery: str | None
    delivery_error: str | None


@dataclass(frozen=True)
class User:
    """A console account. Its roles are held explicitly: admin does not imply supervisor, nor the reverse."""

    id: str
    username: str
    roles: frozenset[Role]
    disabled: bool
    password_hash: str = field(repr=False)
    availability: str = "offline"
    totp_enabled: bool = False
    created_at: datetime | None = None
    # The account that created this one (None: made on the command line).
    created_by: str | None = None

    @property
    def is_supervisor(self) -> bool:
        return "supervisor" in self.roles

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def reads_conversations(self) -> bool:
        """A volunteer or supervisor: someone who answers contacts (an admin alone does not)."""
        return bool(self.roles & CONVERSATION_ROLES)

    @property
    def role_names(self) -> list[str]:
        """The roles in their fixed order (volunteer, supervisor, admin), for display and storage."""
        return [role for role in ROLES if role in self.roles]


@dataclass(frozen=True)
class SignInLimit:
    """A sign-in counter (for one username or one network): attempts in its window, and any delay or lock."""

    attempts: int
    window_start: datetime
    retry_at: datetime | None
    locked_until: datetime | None


@dataclass(frozen=True)
class Session:
    token_hash: bytes = field(repr=False)
    user: User
    csrf_token: str = field(repr=False)
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class OutboxItem:
    """A reply waiting to be sent, or being sent. ``state`` is pending, sending, done or failed."""

    id: str
    message_id: str
    conversation_id: str
    channel: str
    state: str
    attempts: int
    next_attempt_at: datetime


AVAILABILITY = ("available", "away", "offline")


@dataclass(frozen=True)
class StoredNote:
    """A staff note as stored: sealed under the conversation's data key. ``kind`` is note or handover."""

    id: str
    conversation_id: str
    author_id: str
    author_name: str | None
    kind: str
    body: bytes = field(repr=False)
    created_at: datetime


@dataclass(frozen=True)
class Note:
    id: str
    author: str | None
    kind: str
    body: str = field(repr=False)
    created_at: datetime


@dataclass(frozen=True)
class RecordFields:
    """What a consenting contact agreed to let the helpline keep."""

    name: str = field(repr=False)
    date_of_birth: str = field(repr=False)
    contact_details: str = field(repr=False)
    summary: str = field(repr=False)


@dataclass(frozen=True)
class StoredRecord:
    """A consented record as stored: each field sealed under the record's own data key."""

    id: str
    key: KeyRef | None
    blind_index: bytes | None = field(repr=False)
    name: bytes = field(repr=False)
    date_of_birth: bytes = field(repr=False)
    contact_details: bytes = field(repr=False)
    summary: bytes = field(repr=False)
    consent_wording: str
    consented_at: datetime
    created_by: str
    created_by_name: str | None
    created_at: datetime


@dataclass(frozen=True)
class Block:
    id: str
    conversation_id: str
    reason: str
    created_by: str | None
    created_at: datetime
    expires_at: datetime
    lifted_at: datetime | None


@dataclass(frozen=True)
class CannedResponse:
    id: str
    code: str
    title: str
    body: str


@dataclass(frozen=True)
class StaffMember:
    """A console user as the floor view shows them."""

    username: str
    roles: list[str]
    availability: str
    holding: list[Conversation]
    # A live console now, and offered conversations (status Available and present).
    present: bool = False
    available: bool = False


LEVELS = ("concern", "significant_harm", "immediate_danger")
DECISIONS = ("advice_given", "referred", "emergency_services", "no_further_action")


@dataclass(frozen=True)
class Escalation:
    """A safeguarding flag and what supervisors did about it; ``note``/``decision_note`` are sealed."""

    id: str
    conversation_id: str
    category: str
    level: str
    note: bytes = field(repr=False)
    state: str
    raised_by: str | None
    raised_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    decision: str | None
    decision_note: bytes | None = field(repr=False)
    decided_by: str | None
    decided_at: datetime | None
    closed_at: datetime | None
    next_alert_at: datetime | None
    alerts: int
    oncall_notified_at: datetime | None


@dataclass(frozen=True)
class Disclosure:
    id: str
    conversation_id: str
    escalation_id: str | None
    requested_by: str
    requested_by_name: str | None
    requested_at: datetime
    reason: str
    state: str
    decided_by: str | None
    decided_at: datetime | None


@dataclass(frozen=True)
class StaffNotification:
    id: str
    channel: str
    body: str
    state: str
    attempts: int
    next_attempt_at: datetime


@dataclass(frozen=True)
class ProviderDeletion:
    """A message whose record at the provider is still to be deleted; its provider id stays sealed in the store."""

    message_id: str
    conversation_id: str
    channel: str
    direction: Direction
    attempts: int
    queued_at: datetime
    next_attempt_at: datetime


@dataclass(frozen=True)
class SealedSecret:
    """A server secret as stored (a TOTP seed): the row, the column, and the envelope."""

    user_id: str
    column: str
    sealed: bytes = field(repr=False)

    @property
    def context(self) -> str:
        return f"users|{self.user_id}|{self.column}"


@dataclass(frozen=True)
class Accepted:
    """An inbound message accepted from a webhook and waiting to be routed (``core/intake.py``)."""

    id: str
    accepted_at: datetime
    sealed: bytes = field(repr=False)
    attempts: int


@dataclass(frozen=True)
class RouteEntry:
    """An open conversation's routing pseudonym, with what is needed to compute it again under a new key."""

    conversation_id: str
    channel: str
    pseudonym: bytes = field(repr=False)
    sealed_address: bytes = field(repr=False)
    key: KeyRef


@dataclass(frozen=True)
class KeyVersion:
    """A master key version made by a rotation: when it was added, fully used, and retired."""

    version: int
    added_at: datetime
    rewrapped_at: datetime | None
    retired_at: datetime | None
