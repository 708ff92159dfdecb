"""The interfaces the core owns; ``store/``, ``crypto/`` and ``bus`` implement them.

A ``Store`` runs a unit of work against a ``Tx``. ``write`` work is serialized and committed in groups:
it must only touch the ``Tx`` (no network, no sleeping), it runs inside its own savepoint so a failure
undoes only its own changes, and ``write`` returns only after the group's commit is durable. Side effects
(events, sends) happen after it returns.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from helpline.audit.chain import StoredAuditRow
from helpline.audit.events import AuditEntry
from helpline.core.events import Event
from helpline.core.models import (
    Block,
    CannedResponse,
    Conversation,
    KeyRef,
    OutboxItem,
    Session,
    StoredMessage,
    StoredNote,
    StoredRecord,
    User,
)

T = TypeVar("T")


class ConversationRepo(Protocol):
    async def get(self, conversation_id: str) -> Conversation | None: ...
    async def find_by_route(self, pseudonym: bytes) -> Conversation | None: ...
    async def insert(self, conversation: Conversation) -> None: ...
    async def add_route(self, pseudonym: bytes, conversation_id: str) -> None: ...
    async def remove_route(self, conversation_id: str) -> None:
        """Forget how to find this conversation: its routing pseudonym and its thread keys."""

    async def put_vault(self, conversation_id: str, sealed_address: bytes) -> None: ...
    async def get_vault(self, conversation_id: str) -> bytes | None: ...
    async def delete_vault(self, conversation_id: str) -> None: ...
    async def find_by_thread(self, keys: Sequence[bytes]) -> Conversation | None:
        """The open conversation one of these thread keys belongs to."""

    async def add_thread_key(self, key: bytes, conversation_id: str) -> None: ...
    async def put_reply_context(self, conversation_id: str, sealed_context: bytes) -> None:
        """Replace the sealed reply context kept in the conversation's vault entry."""

    async def get_reply_context(self, conversation_id: str) -> bytes | None: ...
    async def claim(self, conversation_id: str, user_id: str) -> bool:
        """Assign a waiting, unassigned conversation; False if someone else got there first."""

    async def close(self, conversation_id: str, outcome: str, now: datetime) -> bool: ...
    async def next_seq(self, conversation_id: str) -> int:
        """Reserve the conversation's next message sequence number."""

    async def queue(self, user_id: str, limit: int) -> list[Conversation]:
        """Waiting conversations by priority then wait, then the ones ``user_id`` holds."""

    async def next_waiting(self) -> Conversation | None:
        """The waiting, unassigned conversation to offer next: highest priority, then longest wait."""

    async def count_active(self, user_id: str) -> int: ...
    async def assign(self, conversation_id: str, user_id: str) -> bool:
        """Hand an active conversation to another holder."""

    async def return_to_queue(self, conversation_id: str) -> bool: ...
    async def route_of(self, conversation_id: str) -> bytes | None: ...
    async def set_record(self, conversation_id: str, record_id: str) -> None: ...
    async def set_classification(self, conversation_id: str, contact_type: str, missing_type: str | None) -> None: ...
    async def for_record(self, record_id: str) -> list[str]: ...
    async def held(self) -> list[Conversation]:
        """Every active conversation, for the floor view."""

    async def waiting_stats(self) -> tuple[int, datetime | None]:
        """How many are waiting, and since when the longest has waited."""

    async def set_contact_left(self, conversation_id: str, reason: str, now: datetime) -> None:
        """Record that the contact left a live chat, and why (ended, quick_exit or idle)."""


class MessageRepo(Protocol):
    async def insert(self, message: StoredMessage) -> None: ...
    async def get(self, message_id: str) -> StoredMessage | None: ...
    async def for_conversation(self, conversation_id: str) -> list[StoredMessage]: ...
    async def after(self, conversation_id: str, after_seq: int, limit: int) -> list[StoredMessage]:
        """The conversation's messages with a sequence number above ``after_seq``, in order."""

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

    async def all(self) -> list[User]: ...
    async def set_availability(self, user_id: str, availability: str) -> None: ...
    async def set_disabled(self, user_id: str, disabled: bool) -> None: ...
    async def record_failure(self, user_id: str, now: datetime, lock_after: int) -> None:
        """Count a failed sign-in; lock the account once ``lock_after`` failures have accumulated."""

    async def clear_failures(self, user_id: str) -> None:
        """Reset the failure count and unlock."""

    async def totp(self, user_id: str) -> tuple[bytes | None, bytes | None, int | None]:
        """The sealed secret, the sealed pending secret and the last accepted time step."""

    async def set_totp_pending(self, user_id: str, sealed: bytes | None) -> None: ...
    async def confirm_totp(self, user_id: str, step: int) -> bool:
        """Make the pending secret the secret; False if there was no pending one."""

    async def use_totp_step(self, user_id: str, step: int) -> bool:
        """Record an accepted time step; False if that step (or a later one) was already used."""

    async def reset_totp(self, user_id: str) -> None: ...


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


class NoteRepo(Protocol):
    async def insert(self, note: StoredNote) -> None: ...
    async def for_conversation(self, conversation_id: str) -> list[StoredNote]: ...


class RecordRepo(Protocol):
    async def insert(self, record: StoredRecord, conversation_id: str) -> None: ...
    async def get(self, record_id: str) -> StoredRecord | None: ...
    async def find(self, blind_index: bytes) -> str | None:
        """The id of a readable record for this blind index, if any."""


class BlockRepo(Protocol):
    async def insert(self, block: Block, pseudonym: bytes) -> None: ...
    async def active_for(self, pseudonym: bytes, now: datetime) -> bool: ...
    async def active(self, now: datetime) -> list[Block]: ...
    async def for_conversation(self, conversation_id: str, now: datetime) -> bool: ...
    async def lift(self, block_id: str, user_id: str, now: datetime) -> bool: ...


class CannedRepo(Protocol):
    async def all(self) -> list[CannedResponse]: ...
    async def upsert(self, canned: CannedResponse, now: datetime) -> bool:
        """Insert or update by id; False if another response already uses the code."""

    async def delete(self, canned_id: str) -> bool: ...


class RuntimeSettingsRepo(Protocol):
    async def get(self, key: str) -> str | None: ...
    async def put(self, key: str, value: str, now: datetime) -> None: ...


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
    @property
    def notes(self) -> NoteRepo: ...
    @property
    def records(self) -> RecordRepo: ...
    @property
    def blocks(self) -> BlockRepo: ...
    @property
    def canned(self) -> CannedRepo: ...
    @property
    def runtime_settings(self) -> RuntimeSettingsRepo: ...


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
    def blind_index(self, channel: str, address: str) -> bytes:
        """Recognises a returning contact who consented to a record; never used without consent."""

    def thread(self, channel: str, reference: str) -> bytes:
        """Finds the conversation a reply belongs to from a reference it quotes (an email Message-ID)."""


class SecretBox(Protocol):
    """Seals small server secrets (e.g. TOTP seeds) under a key derived from the master key."""

    def seal(self, context: str, plaintext: str) -> bytes: ...
    def open(self, context: str, blob: bytes) -> str: ...


class Totp(Protocol):
    """RFC 6238 one-time codes."""

    def new_secret(self) -> str: ...
    def match(self, secret: str, code: str, now: datetime) -> int | None:
        """The time step the code belongs to (allowing one step of clock drift), or None."""

    def uri(self, secret: str, username: str, issuer: str) -> str: ...


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
