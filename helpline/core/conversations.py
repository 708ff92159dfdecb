"""Conversations: a contact's messages in, the queue, claiming, replies out, closing.

Every state change runs as one store transaction that also writes its audit row where the action is
audited, and publishes its events only after the commit.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.access import require_reader
from helpline.core.events import (
    ContactLeft,
    ContactTyping,
    ConversationOpened,
    Event,
    MessageAdded,
    OutboxReady,
    VolunteerTyping,
)
from helpline.core.hours import HoursBook
from helpline.core.ids import new_id
from helpline.core.models import (
    Conversation,
    Escalation,
    Inbound,
    Message,
    Note,
    OutboxItem,
    StoredMessage,
    StoredNote,
    User,
)
from helpline.core.ports import Cipher, Notifier, Pseudonymizer, Store, Tx
from helpline.core.publishing import write_and_publish
from helpline.core.risk import Band, RiskScanner, Signal
from helpline.core.risk_meaning import MeaningMatch
from helpline.core.risk_raising import open_meaning
from helpline.core.threads import keep_reply_context, thread_keys
from helpline.errors import Conflict, Forbidden, InvalidInput, NotFound, StoreError

SYSTEM = "system"
# A supervisor monitoring a conversation is audited at most this often, not on every refresh.
MONITOR_AUDIT_EVERY = timedelta(minutes=30)
# Why a contact left a live chat: they ended it, used quick exit, or let it time out.
CONTACT_LEFT_REASONS = ("ended", "quick_exit", "idle")


@dataclass(frozen=True)
class Received:
    """What ``receive`` did: the conversation and message, or that it was a duplicate."""

    conversation_id: str | None
    message_id: str | None
    duplicate: bool
    events: list[Event] = field(default_factory=list)
    blocked: bool = False


@dataclass(frozen=True)
class _Prepared:
    """A message's pseudonyms, risk band and arrival time, computed before its transaction."""

    routes: Sequence[bytes]
    threads: Sequence[bytes]
    band: Band
    now: datetime
    # The message's strongest signal (category, lexicon reason), only when it has any.
    why: tuple[str, str] | None = None


@dataclass(frozen=True)
class _Loaded:
    """Everything a conversation view reads, in one read."""

    conversation: Conversation
    messages: list[StoredMessage]
    notes: list[StoredNote]
    whispers: list[StoredNote]
    blocked: bool
    escalations: list[Escalation]
    joined: bool


@dataclass(frozen=True)
class ConversationView:
    """A conversation opened for one reader."""

    conversation: Conversation
    messages: list[Message]
    notes: list[Note] = field(default_factory=list)
    blocked: bool = False
    whispers: list[Note] = field(default_factory=list)
    # Each inbound message's risk signals, by message id: found again at every view, never stored.
    risk: Mapping[str, tuple[Signal, ...]] = field(default_factory=dict)
    # What the meaning layer read in each inbound message it has read, by message id (stored, sealed).
    meaning: Mapping[str, tuple[MeaningMatch, ...]] = field(default_factory=dict)
    # Its safeguarding flags (states only are shown to volunteers) and whether this supervisor has joined.
    escalations: list[Escalation] = field(default_factory=list)
    joined: bool = False


@dataclass(frozen=True)
class Queue:
    """The queue as one user sees it, with what is unanswered (count, oldest arrival) in each they hold."""

    conversations: list[Conversation]
    unanswered: Mapping[str, tuple[int, datetime]]
    # Why each urgent one is urgent: its top risk signal's category and lexicon reason (never the words).
    why: Mapping[str, tuple[str, str]] = field(default_factory=dict)


class CommittedInbound(Protocol):
    """Told of each inbound message once it is committed (the meaning layer's queue); must not block."""

    def committed(self, conversation_id: str, message_id: str, body: str) -> None: ...


class Conversations:
    """The conversation actions the channels and the console call."""

    def __init__(
        self,
        store: Store,
        cipher: Cipher,
        pseudonyms: Pseudonymizer,
        notifier: Notifier,
        clock: Clock,
        *,
        greeting: str,
        hours: HoursBook,
        max_reply_chars: int,
        risk: RiskScanner,
        committed: CommittedInbound | None = None,
    ) -> None:
        self._store = store
        self._cipher = cipher
        self._pseudonyms = pseudonyms
        self._notifier = notifier
        self._clock = clock
        self._greeting = greeting
        self._hours = hours
        self._max_reply_chars = max_reply_chars
        self._risk = risk
        self._committed = committed

    async def receive(self, inbound: Inbound) -> Received:
        """Store one inbound message durably; a redelivery of the same provider message does nothing.

        The idempotency key and routing pseudonym are keyed HMACs; the address is kept only in the
        conversation's vault, sealed under the conversation's own data key.
        """
        # Pseudonyms under every master key version held, current first: what was stored before a key
        # rotation still matches, and what is stored now uses the current version.
        idempotency = self._pseudonyms.idempotency_candidates(inbound.channel, inbound.provider_message_id)
        prepared = self._prepare(inbound, self._clock.now())

        async def work(tx: Tx) -> Received:
            if not await first_delivery(tx, idempotency, prepared.now):
                return Received(None, None, duplicate=True)
            return await self._route(tx, inbound, prepared)

        received = await write_and_publish(self._store, self._notifier, work, lambda received: received.events)
        self._tell_committed(received, inbound)
        return received

    async def receive_accepted(
        self, inbound: Inbound, accepted_at: datetime, settle: Callable[[Tx], Awaitable[bool]]
    ) -> Received:
        """Store a message whose first delivery was already settled when it was accepted (``core/intake.py``).

        The message is dated, and routed (opening hours, blocks), as of ``accepted_at``, when it arrived.
        ``settle`` runs in the same transaction, before the message is stored (it removes the accepted row);
        if it returns False the message was stored already and nothing more is done.
        """
        prepared = self._prepare(inbound, accepted_at)

        async def work(tx: Tx) -> Received:
            if not await settle(tx):
                return Received(None, None, duplicate=True)
            return await self._route(tx, inbound, prepared)

        received = await write_and_publish(self._store, self._notifier, work, lambda received: received.events)
        self._tell_committed(received, inbound)
        return received

    def _tell_committed(self, received: Received, inbound: Inbound) -> None:
        if self._committed is not None and received.conversation_id and received.message_id:
            self._committed.committed(received.conversation_id, received.message_id, inbound.body)

    def _prepare(self, inbound: Inbound, now: datetime) -> _Prepared:
        """What routing a message needs that is computed outside the transaction (the writer never waits on it)."""
        # One scan for both: only the band is kept; the signals are found again whenever the conversation is shown.
        assessment = self._risk.scan(inbound.body)
        return _Prepared(
            routes=self._pseudonyms.route_candidates(inbound.channel, inbound.address),
            threads=thread_keys(self._pseudonyms, inbound),
            band=assessment.band,
            now=now,
            why=_strongest(assessment.signals),
        )

    async def _route(self, tx: Tx, inbound: Inbound, prepared: _Prepared) -> Received:
        """Add the message to its sender's conversation, opening one if there is none."""
        routes, now = prepared.routes, prepared.now
        for route in routes:
            if await tx.blocks.active_for(route, now):
                return Received(None, None, duplicate=False, blocked=True)
        events: list[Event] = []
        # A reply quoting one of our messages joins its conversation, whichever address it came from.
        conversation = await tx.conversations.find_by_thread(prepared.threads) or await _find_by_routes(tx, routes)
        if conversation is not None and conversation.status == "closed":
            # Still routable, so within the grace period after closing: the same conversation waits again.
            conversation = await self._reopen(tx, conversation, now, events)
        opened = conversation is None
        is_open = self._hours.current.is_open(now)
        if conversation is None:
            conversation = await self._open(tx, inbound, routes[0], now, events)
            opened = conversation is not None
        if conversation is None:
            # A first message from the same sender, in another unit, opened it a moment ago: join that one.
            conversation = await tx.conversations.find_by_route(routes[0])
            if conversation is None:  # pragma: no cover - the route's insert saw it committed
                raise StoreError("the conversation this message belongs to could not be found")
        elif opened:
            returning = False
            for blind_index in self._pseudonyms.blind_index_candidates(inbound.channel, inbound.address):
                record_id = await tx.records.find(blind_index)
                if record_id is not None:
                    await tx.conversations.set_record(conversation.id, record_id)
                    returning = True
                    break
            if returning or not is_open:
                await tx.reports.mark_conversation(conversation.id, returning=returning, out_of_hours=not is_open)
        message_id = await self._add_message(
            tx,
            conversation,
            direction="in",
            author_id=None,
            body=inbound.body,
            now=now,
            events=events,
            band=prepared.band,
            why=prepared.why,
            # Kept sealed only until the provider's copy is deleted (core/provider_deletion.py).
            provider_id=inbound.provider_message_id if inbound.delete_at_provider else None,
        )
        await keep_reply_context(tx, self._cipher, conversation, inbound)
        greeting = self._greeting if is_open else self._hours.current.closed_message
        if opened and greeting and inbound.greet:
            await self._add_message(
                tx, conversation, direction="out", author_id=None, body=greeting, now=now, events=events
            )
        return Received(conversation.id, message_id, duplicate=False, events=events)

    async def _reopen(
        self, tx: Tx, conversation: Conversation, now: datetime, events: list[Event]
    ) -> Conversation | None:
        """Put a conversation closed moments ago back in the queue; None if its transcript is already gone."""
        if conversation.key is None or not await tx.conversations.reopen(conversation.id, now):
            return None
        await tx.audit.append(AuditEntry(now, SYSTEM, Action.CONVERSATION_REOPENED, conversation.id))
        events.append(ConversationOpened(conversation.id))
        return await tx.conversations.get(conversation.id)

    async def _open(
        self, tx: Tx, inbound: Inbound, route: bytes, now: datetime, events: list[Event]
    ) -> Conversation | None:
        """A new conversation for this sender; None if a concurrent first message from them opened one already."""
        conversation_id = new_id()
        conversation = Conversation(
            id=conversation_id,
            channel=inbound.channel,
            status="waiting",
            assignee_id=None,
            assignee_name=None,
            priority=0,
            created_at=now,
            waiting_since=now,
            closed_at=None,
            outcome=None,
            key=self._cipher.new_key("conversations", conversation_id),
            last_seq=0,
        )
        await tx.conversations.insert(conversation)
        if not await tx.conversations.add_route(route, conversation_id):
            await tx.conversations.discard(conversation_id)
            return None
        assert conversation.key is not None  # noqa: S101 - just created above
        sealed = self._cipher.seal(conversation.key, "vault", conversation_id, "address", inbound.address)
        await tx.conversations.put_vault(conversation_id, sealed)
        await tx.audit.append(
            AuditEntry(now, SYSTEM, Action.CONVERSATION_OPENED, conversation_id, {"channel": inbound.channel})
        )
        events.append(ConversationOpened(conversation_id))
        return conversation

    async def _add_message(
        self,
        tx: Tx,
        conversation: Conversation,
        *,
        direction: str,
        author_id: str | None,
        body: str,
        now: datetime,
        events: list[Event],
        band: Band = Band.NONE,
        why: tuple[str, str] | None = None,
        provider_id: str | None = None,
    ) -> str:
        """Store a message (and queue it for sending, if outbound); an inbound one raises the priority to its band."""
        key = conversation.key
        assert key is not None  # noqa: S101 - open conversations always have a key
        message_id = new_id()
        sealed_why = None
        if why is not None and band > conversation.priority:
            text = json.dumps({"category": why[0], "reason": why[1]})
            sealed_why = self._cipher.seal(key, "conversations", conversation.id, "risk_why", text)
        sealed_provider_id = None
        if provider_id is not None:
            sealed_provider_id = self._cipher.seal(key, "messages", message_id, "provider_id", provider_id)
        seq = await tx.messages.append(
            StoredMessage(
                id=message_id,
                conversation_id=conversation.id,
                seq=0,
                direction="in" if direction == "in" else "out",
                author_id=author_id,
                author_name=None,
                body=self._cipher.seal(key, "messages", message_id, "body", body),
                created_at=now,
                delivery=None if direction == "in" else "queued",
                delivery_error=None,
            ),
            band,
            sealed_why,
            sealed_provider_id,
        )
        events.append(MessageAdded(conversation.id, message_id, seq))
        if direction == "out":
            item = OutboxItem(new_id(), message_id, conversation.id, conversation.channel, "pending", 0, now)
            await tx.outbox.add(item)
            events.append(OutboxReady(conversation.id))
        return message_id

    async def queue(self, user: User, limit: int = 200) -> Queue:
        """What the user's queue shows: waiting conversations in priority order, then their own.

        Their own come with what is unanswered in each, the one waiting longest for an answer first.
        """

        require_reader(user)

        async def work(tx: Tx) -> Queue:
            found = await tx.conversations.queue(user.id, limit)
            mine = [c for c in found if c.assignee_id == user.id and c.status == "active"]
            unanswered = await tx.conversations.unanswered([c.id for c in mine])
            far = datetime.max.replace(tzinfo=UTC)
            mine.sort(key=lambda c: (unanswered[c.id][1] if c.id in unanswered else far, c.waiting_since))
            return Queue([c for c in found if c not in mine] + mine, unanswered)

        queue = await self._store.read(work)
        why = {c.id: found for c in queue.conversations if (found := risk_why(self._cipher, c)) is not None}
        return Queue(queue.conversations, queue.unanswered, why)

    async def reply(self, user: User, conversation_id: str, body: str) -> str:
        """Queue a volunteer's reply for sending; returns the message id."""
        require_reader(user)
        if not body.strip():
            raise InvalidInput("Write a reply before sending.")
        if len(body) > self._max_reply_chars:
            raise InvalidInput(f"A reply can be at most {self._max_reply_chars} characters.")
        now = self._clock.now()
        events: list[Event] = []

        async def work(tx: Tx) -> str:
            events.clear()
            conversation = await self._visible(tx, user, conversation_id, lock=True)
            if conversation.status == "closed":
                raise Conflict("This conversation is closed.")
            joined = user.is_supervisor and await tx.oversight.joined(conversation_id, user.id)
            if conversation.assignee_id != user.id and not joined:
                raise Conflict("Claim this conversation before replying.")
            if conversation.contact_left_at is not None:
                raise Conflict("The contact has left the chat, so a reply cannot reach them. Close it when ready.")
            message_id = await self._add_message(
                tx, conversation, direction="out", author_id=user.id, body=body, now=now, events=events
            )
            # For reports: who answered, and when they first did (kept after the transcript is purged).
            await tx.reports.record_answer(conversation_id, user.id, now)
            return message_id

        message_id = await write_and_publish(self._store, self._notifier, work, lambda _: events)
        return message_id

    async def view(self, user: User, conversation_id: str) -> ConversationView:
        """A conversation with its messages opened, if the user may read it."""

        now = self._clock.now()

        async def work(tx: Tx) -> _Loaded:
            conversation = await self._visible(tx, user, conversation_id)
            return _Loaded(
                conversation,
                await tx.messages.for_conversation(conversation_id),
                await tx.notes.for_conversation(conversation_id),
                await tx.oversight.whispers(conversation_id),
                await tx.blocks.for_conversation(conversation_id, now),
                await tx.escalations.for_conversation(conversation_id),
                user.is_supervisor and await tx.oversight.joined(conversation_id, user.id),
            )

        loaded = await self._store.read(work)
        conversation = loaded.conversation
        if user.is_supervisor and conversation.assignee_id not in (None, user.id):
            await self._audit_monitoring(user, conversation_id, now)
        messages = [self._open_message(conversation, m) for m in loaded.messages]
        # Rescanned from the opened text each time: what matched, and where, is never stored.
        risk = {m.id: self._risk.scan(m.body).signals for m in messages if m.direction == "in"}
        meaning = {}
        if conversation.key is not None:
            for stored in loaded.messages:
                if stored.meaning is not None:
                    meaning[stored.id] = open_meaning(self._cipher, conversation.key, stored.id, stored.meaning)
        return ConversationView(
            conversation,
            messages,
            self._open_notes(conversation, loaded.notes),
            loaded.blocked,
            self._open_notes(conversation, loaded.whispers, table="whispers"),
            risk,
            meaning,
            loaded.escalations,
            loaded.joined,
        )

    async def _audit_monitoring(self, user: User, conversation_id: str, now: datetime) -> None:
        """A supervisor reading someone else's conversation is audited, once per supervisor per half hour."""

        async def work(tx: Tx) -> None:
            since = now - MONITOR_AUDIT_EVERY
            if not await tx.oversight.recently_audited(user.id, Action.CONVERSATION_VIEWED, conversation_id, since):
                await tx.audit.append(AuditEntry(now, user.id, Action.CONVERSATION_VIEWED, conversation_id))

        await self._store.write(work)

    def _open_notes(self, conversation: Conversation, stored: list[StoredNote], table: str = "notes") -> list[Note]:
        if conversation.key is None:
            return []
        key = conversation.key
        return [
            Note(n.id, n.author_name, n.kind, self._cipher.open(key, table, n.id, "body", n.body), n.created_at)
            for n in stored
        ]

    def _open_message(self, conversation: Conversation, stored: StoredMessage) -> Message:
        if conversation.key is None:
            body = ""
        else:
            body = self._cipher.open(conversation.key, "messages", stored.id, "body", stored.body)
        return Message(
            id=stored.id,
            seq=stored.seq,
            direction=stored.direction,
            author=stored.author_name,
            body=body,
            created_at=stored.created_at,
            delivery=stored.delivery,
            delivery_error=stored.delivery_error,
        )

    async def _visible(self, tx: Tx, user: User, conversation_id: str, *, lock: bool = False) -> Conversation:
        """The conversation, if this user may see it: a waiting one, their own, or any for supervisors."""
        require_reader(user)
        conversations = tx.conversations
        conversation = await (conversations.lock if lock else conversations.get)(conversation_id)
        if conversation is None:
            raise NotFound("There is no such conversation.")
        if user.is_supervisor or conversation.assignee_id == user.id or conversation.status == "waiting":
            return conversation
        raise Forbidden("Another volunteer holds this conversation.")

    # Live chat: what the contact's own channel may see and do. A channel finds the conversation only
    # through the contact's route (``find_open``), so it can never read someone else's.

    async def find_open(self, channel: str, address: str) -> Conversation | None:
        """The contact's open conversation on a channel, found through its routing pseudonym."""
        routes = self._pseudonyms.route_candidates(channel, address)
        return await self._store.read(lambda tx: _find_by_routes(tx, routes))

    async def contact_transcript(self, conversation_id: str, after_seq: int, limit: int = 200) -> list[Message]:
        """The contact's view: their messages and the helpline's with a seq above ``after_seq``, opened."""

        async def work(tx: Tx) -> tuple[Conversation | None, list[StoredMessage]]:
            found = await tx.conversations.get(conversation_id)
            return found, await tx.messages.after(conversation_id, after_seq, limit)

        conversation, stored = await self._store.read(work)
        if conversation is None:
            return []
        return [self._open_message(conversation, m) for m in stored if m.direction in ("in", "out")]

    async def contact_left(self, channel: str, address: str, reason: str) -> str | None:
        """The contact left a live chat: their route and address go now, and the volunteer sees why.

        Returns the conversation's id, or None when the contact had no open conversation.
        """
        if reason not in CONTACT_LEFT_REASONS:
            raise InvalidInput("Unknown reason for leaving.")
        routes = self._pseudonyms.route_candidates(channel, address)
        now = self._clock.now()

        async def work(tx: Tx) -> str | None:
            conversation = await _find_by_routes(tx, routes)
            if conversation is None:
                return None
            await tx.conversations.set_contact_left(conversation.id, reason, now)
            await tx.audit.append(AuditEntry(now, SYSTEM, Action.CONTACT_LEFT, conversation.id, {"reason": reason}))
            await tx.conversations.remove_route(conversation.id)
            # Nothing sent from now on can reach them, so the address has no further use.
            await tx.conversations.delete_vault(conversation.id)
            return conversation.id

        return await write_and_publish(
            self._store, self._notifier, work, lambda left: [ContactLeft(left, reason)] if left is not None else []
        )

    def contact_typing(self, conversation_id: str, active: bool) -> None:
        """Tell the console that the contact started or stopped typing; nothing is stored."""
        self._notifier.signal(ContactTyping(conversation_id, active))

    async def volunteer_typing(self, user: User, conversation_id: str, active: bool) -> None:
        """Tell a live chat's contact that the volunteer holding it started or stopped typing."""
        conversation = await self._store.read(lambda tx: tx.conversations.get(conversation_id))
        if conversation is None:
            raise NotFound("There is no such conversation.")
        if conversation.assignee_id != user.id or conversation.status != "active":
            raise Conflict("Claim this conversation before replying.")
        self._notifier.signal(VolunteerTyping(conversation_id, active))

    async def waiting_order(self, limit: int = 500) -> list[str]:
        """Ids of the waiting conversations, the one to be answered first first: the queue's own order."""
        # The queue as nobody in particular sees it: SYSTEM holds nothing, so only waiting ones come back.
        conversations = await self._store.read(lambda tx: tx.conversations.queue(SYSTEM, limit))
        return [c.id for c in conversations if c.status == "waiting"]


def _strongest(signals: Sequence[Signal]) -> tuple[str, str] | None:
    """The category and lexicon reason of the message's strongest signal (the first of the strongest)."""
    if not signals:
        return None
    top = max(signals, key=lambda s: s.weight)
    return top.category, top.reason


def risk_why(cipher: Cipher, conversation: Conversation) -> tuple[str, str] | None:
    """Open a conversation's sealed top signal: (category, reason), or None."""
    if conversation.risk_why is None or conversation.key is None:
        return None
    opened = json.loads(
        cipher.open(conversation.key, "conversations", conversation.id, "risk_why", conversation.risk_why)
    )
    return str(opened["category"]), str(opened["reason"])


async def _find_by_routes(tx: Tx, routes: Sequence[bytes]) -> Conversation | None:
    """The conversation routed by the first of these pseudonyms that matches."""
    for route in routes:
        conversation = await tx.conversations.find_by_route(route)
        if conversation is not None:
            return conversation
    return None


async def first_delivery(tx: Tx, idempotency: Sequence[bytes], now: datetime) -> bool:
    """Record a provider message's idempotency key (current version first); False if it came before.

    The older versions' keys are only looked up: after a key rotation, a redelivery of a message first seen
    under an older version is still recognised.
    """
    for key in idempotency[1:]:
        if await tx.inbox.seen(key):
            return False
    return await tx.inbox.remember(idempotency[0], now)
