"""The interfaces the core owns; ``store/``, ``crypto/`` and ``bus`` implement them.

A ``Store`` runs a unit of work against a ``Tx``. ``write`` work is atomic: a failure undoes only its own
changes, and ``write`` returns only after its commit is durable. It must only touch the ``Tx`` (no network, no
sleeping), and it may be run more than once (a unit that lost a race to another writer is run again), so
anything it collects for afterwards is rebuilt inside it. Side effects (events, sends) happen after it returns.

Several writers may run at once (several server processes on one database), so no decision in core rests on
a read that another writer could change before the write it leads to. Every such read is one of:

- an atomic statement that decides and writes at once (``claim``, ``close``, ``reopen``, ``remember``);
- a row lock held until the unit ends (``lock``, and the reads whose docstrings say they lock);
- a claim that skips what another unit holds (``OutboxRepo.claim``, ``due_alerts``, ``next_waiting``);
- an insert that yields to a concurrent one (``add_route``), followed by a read.

Reads through ``Store.read`` take no locks; each of their statements sees what was committed when it ran.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from helpline.audit.chain import StoredAuditRow
from helpline.audit.events import AuditEntry
from helpline.core.events import Event
from helpline.core.models import (
    Accepted,
    Block,
    CannedResponse,
    Conversation,
    Disclosure,
    Escalation,
    KeyRef,
    KeyVersion,
    OutboxItem,
    ProviderDeletion,
    Role,
    RouteEntry,
    SealedSecret,
    Session,
    SignInLimit,
    StaffNotification,
    StoredMessage,
    StoredNote,
    StoredRecord,
    User,
)
from helpline.core.reports.facts import (
    AnswerFacts,
    AvailabilitySpan,
    ConversationFacts,
    DisclosureFacts,
    EscalationFacts,
)

T = TypeVar("T")


class ConversationRepo(Protocol):
    async def get(self, conversation_id: str) -> Conversation | None: ...
    async def lock(self, conversation_id: str) -> Conversation | None:
        """The conversation, its row locked until the unit ends: closing, replying and reopening take turns."""

    async def find_by_route(self, pseudonym: bytes) -> Conversation | None:
        """The conversation this pseudonym routes to; in a write, the conversation and its route stay locked."""

    async def insert(self, conversation: Conversation) -> None: ...
    async def add_route(self, pseudonym: bytes, conversation_id: str) -> bool:
        """Route the pseudonym to the conversation; False if it already routes to another (one that a concurrent
        first message from the same sender opened): then ``discard`` this one and use that one."""

    async def discard(self, conversation_id: str) -> None:
        """Delete a conversation inserted by this unit that nothing refers to yet."""

    async def remove_route(self, conversation_id: str) -> None:
        """Forget how to find this conversation: its routing pseudonym and its thread keys."""

    async def put_vault(self, conversation_id: str, sealed_address: bytes) -> None: ...
    async def get_vault(self, conversation_id: str) -> bytes | None: ...
    async def delete_vault(self, conversation_id: str) -> None: ...
    async def find_by_thread(self, keys: Sequence[bytes]) -> Conversation | None:
        """The conversation one of these thread keys belongs to (kept, like a route, while it is routable);
        in a write, locked like ``find_by_route``."""

    async def add_thread_key(self, key: bytes, conversation_id: str) -> None: ...
    async def put_reply_context(self, conversation_id: str, sealed_context: bytes) -> None:
        """Replace the sealed reply context kept in the conversation's vault entry."""

    async def get_reply_context(self, conversation_id: str) -> bytes | None: ...
    async def claim(self, conversation_id: str, user_id: str) -> bool:
        """Assign a waiting, unassigned conversation; False if someone else got there first."""

    async def close(self, conversation_id: str, outcome: str, now: datetime) -> bool: ...
    async def next_seq(self, conversation_id: str, band: int = 0, sealed_why: bytes | None = None) -> int:
        """Reserve the conversation's next message sequence number, raising its priority to ``band``.

        The priority becomes ``band`` if that is higher (a message's risk band); it is never lowered. When it
        is raised, ``sealed_why`` (the sealed top signal's category and reason) replaces the stored one. The
        conversation's row stays locked until the unit ends, so messages commit in sequence order: a reader that
        has seen sequence number N never later finds a new message below it.
        """

    async def queue(self, user_id: str, limit: int) -> list[Conversation]:
        """Waiting conversations by priority then wait (a chat whose contact left among them), then ``user_id``'s."""

    async def next_waiting(self) -> Conversation | None:
        """The waiting, unassigned conversation to offer next: highest priority, then longest wait.

        A live chat whose contact already left is never offered: nobody is there to answer. In a write it is
        locked, and one that another unit has locked is passed over.
        """

    async def unanswered(self, conversation_ids: Sequence[str]) -> dict[str, tuple[int, datetime]]:
        """For each conversation with any: how many contact messages came after the last staff reply, and
        when the oldest of them arrived (automatic messages are no answer)."""

    async def held_by(self, user_id: str) -> list[Conversation]:
        """The active conversations ``user_id`` holds."""

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
        """How many are waiting, and since when the longest has waited (a chat whose contact left not counted)."""

    async def set_contact_left(self, conversation_id: str, reason: str, now: datetime) -> None:
        """Record that the contact left a live chat, and why (ended, quick_exit or idle)."""

    async def reopen(self, conversation_id: str, now: datetime) -> bool:
        """Put a closed conversation back in the queue, waiting and unassigned; False if it was not closed."""

    async def raise_priority(self, conversation_id: str, band: int, sealed_why: bytes | None = None) -> bool:
        """Raise the conversation's priority to ``band`` if it is lower; never lower it. True if it rose.

        One atomic statement (``SET priority = MAX(priority, band) WHERE priority < band``), so a raise
        racing a message's own ``next_seq`` or another raise can only end at the higher of the two. When it
        rises, ``sealed_why`` (if given) becomes the conversation's top reason, as with ``next_seq``.
        """


class MessageRepo(Protocol):
    async def insert(self, message: StoredMessage, sealed_provider_id: bytes | None = None) -> None:
        """Store a message; an inbound one's provider id (sealed) with it, until the provider's copy is deleted."""

    async def append(
        self,
        message: StoredMessage,
        band: int = 0,
        sealed_why: bytes | None = None,
        sealed_provider_id: bytes | None = None,
    ) -> int:
        """Store a message as its conversation's next, numbered as ``ConversationRepo.next_seq`` numbers (and
        raising the priority as it does), its ``seq`` ignored; returns the number. One statement where the
        engine allows it."""

    async def get(self, message_id: str) -> StoredMessage | None: ...
    async def for_conversation(self, conversation_id: str) -> list[StoredMessage]: ...
    async def after(self, conversation_id: str, after_seq: int, limit: int) -> list[StoredMessage]:
        """The conversation's messages with a sequence number above ``after_seq``, in order."""

    async def set_delivery(self, message_id: str, delivery: str, error: str | None) -> None: ...
    async def set_provider_id(self, message_id: str, sealed_provider_id: bytes) -> None: ...
    async def set_meaning(self, message_id: str, sealed_meaning: bytes) -> None:
        """Keep the meaning layer's sealed reading of an inbound message (``StoredMessage.meaning``)."""


class InboxRepo(Protocol):
    async def remember(self, key: bytes, now: datetime) -> bool:
        """Record an inbound message's idempotency key; False if it was already there."""

    async def seen(self, key: bytes) -> bool:
        """True if this idempotency key is recorded."""


class IntakeRepo(Protocol):
    """Accepted inbound messages waiting to be routed, oldest first."""

    async def add(self, intake_id: str, accepted_at: datetime, sealed: bytes) -> None: ...
    async def waiting(self, limit: int, max_attempts: int, accepted_before: datetime | None = None) -> list[Accepted]:
        """The oldest rows that have failed fewer than ``max_attempts`` times (and, if given, were accepted before
        ``accepted_before``)."""

    async def remove(self, intake_id: str) -> bool:
        """Delete a row once its message is stored; False if it was already gone."""

    async def failed(self, intake_id: str) -> None:
        """Count one failed routing of a row."""

    async def sealed(self) -> list[bytes]:
        """Every row's envelope (to tell which master key versions are still in use)."""


class OutboxRepo(Protocol):
    async def add(self, item: OutboxItem) -> None: ...
    async def get(self, item_id: str) -> OutboxItem | None: ...
    async def claim(self, item_id: str, now: datetime) -> OutboxItem | None:
        """The item, locked until the unit ends, if it is pending or sending and due; None if it is not, or if
        another unit is starting it now (so of two workers only one sends it)."""

    async def due(self, now: datetime, limit: int) -> list[OutboxItem]:
        """Items in state pending or sending whose next attempt time has come, oldest first."""

    async def update(self, item_id: str, state: str, attempts: int, next_attempt_at: datetime) -> None: ...
    async def sending(self, limit: int, due_by: datetime | None = None) -> list[OutboxItem]:
        """Items in state sending, oldest first: all of them, or only those due by ``due_by``.

        Read once as the outbound worker starts: with one server process, each is a send that a stopped
        process left unfinished; where instances share the database, only one whose send lease has passed is
        (a newer one may be another instance's send in flight).
        """

    async def pending_for(self, conversation_id: str) -> int:
        """How many of the conversation's items are not yet done or failed."""


class UserRepo(Protocol):
    async def get(self, user_id: str) -> User | None: ...
    async def lock(self, user_id: str) -> None:
        """Lock the user's row until the unit ends: capacity checks for one volunteer take turns."""

    async def by_name(self, username: str) -> User | None: ...
    async def insert(self, user: User, now: datetime) -> bool:
        """Store the account with its roles and creator; False if the username is taken."""

    async def set_roles(self, user_id: str, roles: frozenset[Role]) -> None: ...
    async def all(self) -> list[User]: ...
    async def set_availability(self, user_id: str, availability: str) -> None: ...
    async def set_disabled(self, user_id: str, disabled: bool) -> None: ...
    async def set_password_hash(self, user_id: str, password_hash: str) -> None: ...
    async def totp(self, user_id: str) -> tuple[bytes | None, bytes | None, int | None]:
        """The sealed secret, the sealed pending secret and the last accepted time step."""

    async def set_totp_pending(self, user_id: str, sealed: bytes | None) -> None: ...
    async def confirm_totp(self, user_id: str, step: int) -> bool:
        """Make the pending secret the secret; False if there was no pending one."""

    async def use_totp_step(self, user_id: str, step: int) -> bool:
        """Record an accepted time step; False if that step (or a later one) was already used."""

    async def reset_totp(self, user_id: str) -> None: ...


class SignInLimitRepo(Protocol):
    """Sign-in attempt counters, keyed by a keyed HMAC of a username or a network (never either itself).

    Sign-ins run concurrently and each is checked outside any transaction (a password hash takes a while), so
    every method here must be atomic on its own: one statement, or the row locked for the statement's
    transaction. Two attempts must never both see the same count.
    """

    async def count(self, key: bytes, now: datetime, since: datetime, limit: int) -> int | None:
        """Count one attempt before it is checked, in one ``UPDATE … RETURNING`` (an upsert): the new count.

        None, changing nothing, while the key is locked, before its retry time, or already at ``limit``. A
        window that began at or before ``since``, or a lock that has ended, starts again at 1.
        """

    async def take_back(self, key: bytes) -> None:
        """Uncount one attempt that turned out not to be a failure (atomic decrement, never below 0)."""

    async def clear_unless_locked(self, key: bytes, now: datetime) -> bool:
        """Forget the key's count after a success; False, changing nothing, while a lock is in force."""

    async def lock(self, key: bytes, until: datetime, limit: int) -> bool:
        """Lock a key whose count reached ``limit``; True only for the one call that set the lock."""

    async def delay(self, key: bytes, retry_at: datetime) -> None:
        """Count nothing for the key before ``retry_at`` (never brings an existing retry time earlier)."""

    async def get(self, key: bytes) -> SignInLimit | None: ...
    async def locked(self, keys: list[bytes], now: datetime) -> set[bytes]:
        """Which of these keys are locked now."""

    async def clear(self, key: bytes) -> None:
        """Forget the key altogether (an admin's unlock)."""

    async def forget(self, before: datetime, now: datetime) -> int:
        """Drop counters whose window began at or before ``before`` and that hold no lock or delay now."""


class SessionRepo(Protocol):
    async def insert(self, session: Session) -> None: ...
    async def get(self, token_hash: bytes) -> Session | None: ...
    async def touch(self, token_hash: bytes, now: datetime) -> None: ...
    async def delete(self, token_hash: bytes) -> None: ...
    async def delete_for_user(self, user_id: str, keep: bytes | None) -> None:
        """End every session of the user, except the one whose token hash is ``keep``."""


class AuditRepo(Protocol):
    async def append(self, entry: AuditEntry) -> None:
        """Add an entry to the end of the hash chain; appends take turns, so the chain never forks."""

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


class EscalationRepo(Protocol):
    async def insert(self, escalation: Escalation) -> None: ...
    async def get(self, escalation_id: str) -> Escalation | None: ...
    async def for_conversation(self, conversation_id: str) -> list[Escalation]: ...
    async def open(self) -> list[Escalation]:
        """Every escalation not yet closed, most urgent first."""

    async def closed_since(self, since: datetime, limit: int) -> list[Escalation]:
        """Escalations closed at or after ``since``, the latest first: the shift's handover history."""

    async def acknowledge(self, escalation_id: str, user_id: str, now: datetime) -> bool: ...
    async def decide(
        self, escalation_id: str, user_id: str, decision: str, sealed_note: bytes, now: datetime
    ) -> bool: ...
    async def close(self, escalation_id: str, user_id: str, now: datetime) -> bool: ...
    async def due_alerts(self, now: datetime) -> list[Escalation]:
        """Raised, unacknowledged escalations whose next alert time has come; in a write they are locked, and those
        another unit holds are passed over (so each re-alert is made once)."""

    async def alerted(self, escalation_id: str, next_alert_at: datetime, oncall_notified: datetime | None) -> None: ...


class DisclosureRepo(Protocol):
    async def insert(self, disclosure: Disclosure) -> None: ...
    async def get(self, disclosure_id: str) -> Disclosure | None: ...
    async def pending(self) -> list[Disclosure]: ...
    async def set_state(
        self, disclosure_id: str, from_state: str, to_state: str, user_id: str | None, now: datetime
    ) -> bool: ...


class OversightRepo(Protocol):
    async def add_whisper(
        self, whisper_id: str, conversation_id: str, author_id: str, sealed: bytes, now: datetime
    ) -> None: ...
    async def whispers(self, conversation_id: str) -> list[StoredNote]: ...
    async def join(self, conversation_id: str, user_id: str, now: datetime) -> None: ...
    async def joined(self, conversation_id: str, user_id: str) -> bool: ...
    async def recently_audited(self, actor: str, action: str, object_id: str, since: datetime) -> bool: ...


class StaffNotificationRepo(Protocol):
    async def add(self, notification: StaffNotification, now: datetime) -> None: ...
    async def due(self, now: datetime, limit: int) -> list[StaffNotification]: ...
    async def claim(self, notification_id: str, now: datetime, retry_at: datetime) -> StaffNotification | None:
        """Count an attempt and put the next one at ``retry_at``, if the notification is still pending and due;
        None if it is not (another worker has just started it)."""

    async def update(self, notification_id: str, state: str, attempts: int, next_attempt_at: datetime) -> None: ...


class RetentionRepo(Protocol):
    """What retention removes: addresses after the grace period, transcripts, records, idempotency keys.

    "Shredding" deletes a row's dependent content and sets its wrapped data key to NULL; the row itself stays,
    content-free, with the time it was shredded.
    """

    async def addresses_due(self, closed_before: datetime, limit: int) -> list[str]:
        """Closed conversations, closed before then, that still have a route, thread keys or a vault entry."""

    async def forget_address(self, conversation_id: str) -> None:
        """Delete a closed conversation's route and thread keys, and its vault entry unless a reply is pending;
        nothing if a message has reopened it meanwhile."""

    async def transcripts_due(self, closed_before: datetime, held_before: datetime, limit: int) -> list[str]:
        """Closed, unshredded conversations past retention and not held by a safeguarding escalation."""

    async def held_for_safeguarding(self, conversation_id: str, held_before: datetime) -> bool:
        """True while an escalation is open, or the last one closed after ``held_before``."""

    async def shred_conversation(self, conversation_id: str, now: datetime) -> bool:
        """Destroy a closed conversation's transcript and data key; False if it was not closed (a message reopened
        it meanwhile) or already done."""

    async def records_due(self, last_contact_before: datetime, limit: int) -> list[str]:
        """Live records whose consent and every linked conversation's close came before then."""

    async def shred_record(self, record_id: str, reason: str, now: datetime) -> bool:
        """Destroy a record's fields, blind index and data key, and unlink its conversations."""

    async def forget_inbound_keys(self, seen_before: datetime) -> int:
        """Delete idempotency keys of inbound messages first seen before then."""

    async def forget_ended_blocks(self, now: datetime) -> int:
        """Delete blocks that have expired or been lifted and whose conversation is shredded."""


class KeyRepo(Protocol):
    """Wrapped data keys, sealed secrets and open routes, for rotating and verifying the master key."""

    async def wrapped(self, after: tuple[str, str] | None, limit: int, not_version: int | None) -> list[KeyRef]:
        """Wrapped data keys (conversations, then records) after ``after`` in that order; optionally those
        not wrapped by ``not_version``."""

    async def replace_wrapped(self, old: KeyRef, new: KeyRef) -> bool:
        """Store a rewrapped key, unless the stored one changed meanwhile (shredded, or rewrapped already)."""

    async def count_wrapped(self, version: int) -> int: ...
    async def secrets(self) -> list[SealedSecret]:
        """Every sealed server secret (TOTP seeds, pending and confirmed)."""

    async def replace_secret(self, old: SealedSecret, sealed: bytes) -> bool:
        """Store a resealed secret, unless it changed meanwhile."""

    async def routes(self, after: str | None, limit: int) -> list[RouteEntry]:
        """Routes of conversations that still have a vault entry and a data key, by conversation id."""

    async def rekey_route(self, conversation_id: str, old: bytes, new: bytes) -> bool:
        """Move a route, and any block made on it, to a new pseudonym."""

    async def versions(self) -> list[KeyVersion]: ...
    async def version_added(self, version: int, now: datetime) -> None: ...
    async def version_rewrapped(self, version: int, now: datetime) -> None: ...
    async def version_retired(self, version: int, now: datetime) -> None: ...


class ProviderDeletionRepo(Protocol):
    """Deleting messages' records at the provider, with retries."""

    async def enqueue(self, channels: Sequence[str], final_delivery: Sequence[str], now: datetime) -> int:
        """Queue every message on those channels whose provider id is held: inbound ones, and outbound ones whose
        delivery is final. Returns how many were queued."""

    async def due(self, now: datetime, limit: int) -> list[ProviderDeletion]: ...
    async def sealed_provider_id(self, message_id: str) -> bytes | None: ...
    async def claim(self, message_id: str, now: datetime, lease_until: datetime) -> bool:
        """Take a due row until ``lease_until`` (one statement); False if it is not due: another worker has it."""

    async def done(self, message_id: str) -> None:
        """The record is gone at the provider (or given up on): drop the queue row and the sealed provider id."""

    async def retry(self, message_id: str, attempts: int, next_attempt_at: datetime, code: str) -> None: ...


class EventLog(Protocol):
    """The events a unit of work publishes, written in its own transaction (``core/publishing.py``).

    Where several instances share the database (PostgreSQL) they are rows every instance reads; where one
    process owns it (SQLite) the in-process bus is enough and nothing is written.
    """

    async def record(self, events: Sequence[Event]) -> None: ...


class ReportRepo(Protocol):
    """The content-free statistics: recorded as things happen, read for reports; never removed by a purge.

    A period is ``start <= time < end``.
    """

    async def record_answer(self, conversation_id: str, user_id: str, now: datetime) -> None:
        """Note that a staff member replied in a conversation; only their first reply there is kept."""

    async def record_availability(self, user_id: str, available: bool, now: datetime) -> None:
        """Open an availability span (unless one is open) or close the open one."""

    async def mark_conversation(self, conversation_id: str, *, returning: bool, out_of_hours: bool) -> None:
        """Note that a new conversation came from a returning contact and/or outside opening hours."""

    async def conversations(self, start: datetime, end: datetime) -> list[ConversationFacts]:
        """Conversations opened in the period."""

    async def answers(self, start: datetime, end: datetime) -> list[AnswerFacts]:
        """First replies by each staff member in the conversations opened in the period."""

    async def escalations(self, start: datetime, end: datetime) -> list[EscalationFacts]:
        """Escalations raised in the period."""

    async def disclosures(self, start: datetime, end: datetime) -> list[DisclosureFacts]:
        """Disclosure requests made in the period."""

    async def availability(self, start: datetime, end: datetime) -> list[AvailabilitySpan]:
        """Availability spans that overlap the period (open ones included)."""


class Tx(Protocol):
    """One unit of work's view of the store."""

    @property
    def events(self) -> EventLog: ...

    @property
    def conversations(self) -> ConversationRepo: ...
    @property
    def messages(self) -> MessageRepo: ...
    @property
    def inbox(self) -> InboxRepo: ...
    @property
    def intake(self) -> IntakeRepo: ...
    @property
    def outbox(self) -> OutboxRepo: ...
    @property
    def users(self) -> UserRepo: ...
    @property
    def sessions(self) -> SessionRepo: ...
    @property
    def signin_limits(self) -> SignInLimitRepo: ...
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
    @property
    def escalations(self) -> EscalationRepo: ...
    @property
    def disclosures(self) -> DisclosureRepo: ...
    @property
    def oversight(self) -> OversightRepo: ...
    @property
    def staff_notifications(self) -> StaffNotificationRepo: ...
    @property
    def retention(self) -> RetentionRepo: ...
    @property
    def keys(self) -> KeyRepo: ...
    @property
    def provider_deletions(self) -> ProviderDeletionRepo: ...
    @property
    def reports(self) -> ReportRepo: ...


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

    def sign_in(self, kind: str, value: str) -> bytes:
        """Keys a sign-in counter: ``kind`` is "name" (a username) or "network" (a network, as text)."""

    # After a master key rotation, what was stored earlier is found under the older versions too.
    def route_candidates(self, channel: str, address: str) -> Sequence[bytes]:
        """The route pseudonym under every master key version held, current first."""

    def idempotency_candidates(self, channel: str, provider_message_id: str) -> Sequence[bytes]:
        """The idempotency key under every master key version held, current first."""

    def blind_index_candidates(self, channel: str, address: str) -> Sequence[bytes]:
        """The blind index under every master key version held, current first."""

    def thread_candidates(self, channel: str, reference: str) -> Sequence[bytes]:
        """The thread key under every master key version held, current first."""


class SecretBox(Protocol):
    """Seals small server secrets (e.g. TOTP seeds) under a key derived from the master key."""

    def seal(self, context: str, plaintext: str) -> bytes: ...
    def open(self, context: str, blob: bytes) -> str: ...


class KeyWrapping(Protocol):
    """Per-row data keys as the master key wraps them: for rotation, verification and shredding."""

    @property
    def current_version(self) -> int: ...
    def rewrap(self, key: KeyRef) -> KeyRef:
        """The same data key, wrapped by the current master key version."""

    def check(self, key: KeyRef) -> None:
        """Raise MasterKeyError or DecryptionError unless the wrapped key opens (never from a cache)."""

    def forget(self, owner_table: str, owner_id: str) -> None:
        """Drop an unwrapped key from memory (after it is shredded)."""


class Resealer(Protocol):
    """Sealed server secrets, as a master key rotation sees them."""

    def version_of(self, blob: bytes) -> int: ...
    def open(self, context: str, blob: bytes) -> str: ...
    def reseal(self, context: str, blob: bytes) -> bytes:
        """The same secret, sealed under the current master key version."""


class Maintenance(Protocol):
    """Housekeeping the store does after removing data."""

    async def checkpoint(self) -> None:
        """Let the engine drop what its own files still keep of removed data, where it can (e.g. fold and
        truncate a write-ahead log); an engine that recycles its log itself does nothing."""


class ProviderRecords(Protocol):
    """Deletes a message's record (and its media) at the provider; raises a ProviderError subclass on failure."""

    async def delete(self, provider_id: str, *, inbound: bool) -> None:
        """Delete the record; a record that is already gone counts as deleted."""


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


class StampedSubscription(Protocol):
    """Events with their stamps (where each stands in the record of events; empty for a signal), until closed."""

    def __aiter__(self) -> StampedSubscription: ...
    async def __anext__(self) -> tuple[str, Event]: ...
    def close(self) -> None: ...


class Notifier(Protocol):
    """The event bus: subscribers get every event from the moment they subscribe."""

    def publish(self, event: Event) -> None:
        """After a commit: ``event`` was recorded in that transaction's ``Tx.events``."""

    def signal(self, event: Event) -> None:
        """An event nothing stores (someone is typing): it reaches the subscribers of every instance."""

    def subscribe(self) -> Subscription: ...

    def follow(self) -> StampedSubscription:
        """As ``subscribe``, each event with its stamp: what a console that lost its socket resumes from."""

    @property
    def position(self) -> str:
        """The stamp of the last stored event handed to subscribers: a subscription taken now gets what follows."""


class EventHistory(Protocol):
    """The stored record of events, read back for a console that resumes after what this process holds."""

    async def between(self, after: str, upto: str, limit: int) -> list[tuple[str, Event]] | None:
        """The events stamped after ``after`` up to ``upto`` (both stamps), in order, each with its stamp; None
        when ``after`` is not in the record (trimmed, or never there) or more than ``limit`` followed it: the
        console must reload."""


class SharedLimits(Protocol):
    """Web chat's limits kept where every instance sharing the database sees them (``None`` on SQLite).

    Keys are keyed HMACs or hashes of random chat addresses, never an address itself.
    """

    async def take(self, name: str, key: bytes, capacity: int, window: timedelta, now: datetime) -> float | None:
        """Use one of ``capacity`` per ``window`` (a token bucket); None if allowed, else the seconds to wait."""

    async def end_chat(self, key: bytes, until: datetime) -> None:
        """Refuse this chat's token on every instance until ``until`` (when it expires anyway)."""

    async def chat_ended(self, key: bytes, now: datetime) -> bool: ...

    async def open_chats(self) -> int:
        """Web chats started and not yet over, on every instance: what ``webchat.max_concurrent`` counts."""


class PresenceBook(Protocol):
    """Who has a live console: heartbeats per user, each with the time it was last seen live.

    A console socket counts as live while it is open; ``last_live`` is the time of the latest beat, or now
    while a socket is open.
    """

    def opened(self, user_id: str, now: datetime) -> None:
        """A console socket opened for ``user_id``."""

    def beat(self, user_id: str, now: datetime) -> None:
        """An open console is still there (a ping)."""

    def closed(self, user_id: str, now: datetime) -> None:
        """A console socket closed."""

    def signed_out(self, user_id: str) -> None:
        """The user signed out: no console of theirs counts as live from now on."""

    def last_live(self, user_id: str, now: datetime) -> datetime | None:
        """When ``user_id`` last had a live console (``now`` while one is open); None if never, or signed out since."""

    async def share(self, now: datetime) -> None:
        """Where instances share a database: publish this instance's live consoles and read the others'."""


class Sender(Protocol):
    """Sends one message on one channel; raises a ProviderError subclass on failure."""

    async def send(self, address: str, body: str, ref: str) -> str:
        """Send ``body`` to ``address``; ``ref`` is our opaque outbox id. Returns the provider's message id."""


class SentLookup(Protocol):
    """Asks a provider whether it already has a message we may have sent (a send whose answer was lost)."""

    async def find_sent(self, address: str, body: str, since: datetime) -> str | None:
        """The provider's id of a message with ``body`` to ``address`` created since ``since``, or None.

        Raises a ``ProviderError`` when the provider cannot say: then nothing may be sent.
        """
