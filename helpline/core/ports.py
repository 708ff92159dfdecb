"""The interfaces the core owns; ``store/``, ``crypto/`` and ``bus`` implement them.

A ``Store`` runs a unit of work against a ``Tx``. ``write`` work is serialized and committed in groups:
it must only touch the ``Tx`` (no network, no sleeping), it runs inside its own savepoint so a failure
undoes only its own changes, and ``write`` returns only after the group's commit is durable. Side effects
(events, sends) happen after it returns.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol, TypeVar

from helpline.audit.chain import StoredAuditRow
from helpline.audit.events import AuditEntry
from helpline.core.events import Event
from helpline.core.models import (
    Conversation,
    KeyRef,
    OutboxItem,
    Session,
    StoredMessage,
    User,
)

T = TypeVar("T")


class ConversationRepo(Protocol):
    async def get(self, conversation_id: str) -> Conversation | None: ...
    async def find_by_route(self, pseudonym: bytes) -> Conversation | None: ...
    async def insert(self, conversation: Conversation) -> None: ...
    async def add_route(self, pseudonym: bytes, conversation_id: str) -> None: ...
    async def remove_route(self, conversation_id: str) -> None: ...
    async def put_vault(self, conversation_id: str, sealed_address: bytes) -> None: ...
    async def get_vault(self, conversation_id: str) -> bytes | None: ...
    async def delete_vault(self, conversation_id: str) -> None: ...
    async def claim(self, conversation_id: str, user_id: str) -> bool:
        """Assign a waiting, unassigned conversation; False if someone else got there first."""

    async def close(self, conversation_id: str, outcome: str, now: datetime) -> bool: ...
    async def next_seq(self, conversation_id: str) -> int:
        """Reserve the conversation's next message sequence number."""

    async def queue(self, user_id: str, limit: int) -> list[Conversation]:
        """Waiting conversations by priority then wait, then the ones ``user_id`` holds."""


class MessageRepo(Protocol):
    async def insert(self, message: StoredMessage) -> None: ...
    async def get(self, message_id: str) -> StoredMessage | None: ...
    async def for_conversation(self, conversation_id: str) -> list[StoredMessage]: ...
    async def set_delivery(self, message_id: str, delivery: str, error: str | None) -> None: ...
    async def set_provider_id(self, message_id: str, sealed_provider_id: bytes) -> None: ...


class InboxRepo(Protocol):
    async def remember(self, key: bytes, now: datetime) -> bool:
        """Record an inbound message's idempotency key; False if it was already there."""


class OutboxRepo(Protocol):
    async def add(self, item: OutboxItem) -> None: ...
    async def get(self, item_id: str) -> OutboxItem | None: ...
    async def due(self, now: datetime, limit: int) -> list[OutboxItem]:
        """Items in state pending or sending whose next attempt time has come, oldest first."""

    async def update(self, item_id: str, state: str, attempts: int, next_attempt_at: datetime) -> None: ...
    async def pending_for(self, conversation_id: str) -> int:
        """How many of the conversation's items are not yet done or failed."""


class UserRepo(Protocol):
    async def get(self, user_id: str) -> User | None: ...
    async def by_name(self, username: str) -> User | None: ...
    async def insert(self, user: User, now: datetime) -> bool:
        """False if the username is taken."""


class SessionRepo(Protocol):
    async def insert(self, session: Session) -> None: ...
    async def get(self, token_hash: bytes) -> Session | None: ...
    async def touch(self, token_hash: bytes, now: datetime) -> None: ...
    async def delete(self, token_hash: bytes) -> None: ...


class AuditRepo(Protocol):
    async def append(self, entry: AuditEntry) -> None:
        """Add an entry to the end of the hash chain."""

    async def rows(self) -> list[StoredAuditRow]:
        """Every entry in order, with the hashes stored beside it."""


class Tx(Protocol):
    """One unit of work's view of the store."""

    @property
    def conversations(self) -> ConversationRepo: ...
    @property
    def messages(self) -> MessageRepo: ...
    @property
    def inbox(self) -> InboxRepo: ...
    @property
    def outbox(self) -> OutboxRepo: ...
    @property
    def users(self) -> UserRepo: ...
    @property
    def sessions(self) -> SessionRepo: ...
    @property
    def audit(self) -> AuditRepo: ...


class Store(Protocol):
    async def write(self, work: Callable[[Tx], Awaitable[T]]) -> T: ...
    async def read(self, work: Callable[[Tx], Awaitable[T]]) -> T: ...
    async def ping(self) -> None: ...


class Cipher(Protocol):
    """Per-row data keys and the fields sealed under them."""

    def new_key(self, owner_table: str, owner_id: str) -> KeyRef: ...
    def seal(self, key: KeyRef, table: str, row_id: str, field_name: str, plaintext: str) -> bytes: ...
    def open(self, key: KeyRef, table: str, row_id: str, field_name: str, blob: bytes) -> str: ...


class Pseudonymizer(Protocol):
    def route(self, channel: str, address: str) -> bytes: ...
    def idempotency(self, channel: str, provider_message_id: str) -> bytes: ...


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...
    async def verify(self, password_hash: str | None, password: str) -> bool: ...


class Subscription(Protocol):
    """Events from the moment of subscribing, until closed."""

    def __aiter__(self) -> Subscription: ...
    async def __anext__(self) -> Event: ...
    def close(self) -> None: ...


class Notifier(Protocol):
    """The event bus: publish after commit; subscribers get every event from then on."""

    def publish(self, event: Event) -> None: ...
    def subscribe(self) -> Subscription: ...


class Sender(Protocol):
    """Sends one message on one channel; raises a ProviderError subclass on failure."""

    async def send(self, address: str, body: str, ref: str) -> str:
        """Send ``body`` to ``address``; ``ref`` is our opaque outbox id. Returns the provider's message id."""
