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
    id: str
    username: str
    role: Role
    disabled: bool
    password_hash: str = field(repr=False)

    @property
    def is_supervisor(self) -> bool:
        return self.role in ("supervisor", "admin")


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
