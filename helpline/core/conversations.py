"""Conversations: a contact's messages in, the queue, claiming, replies out, closing.

Every state change runs as one store transaction that also writes its audit row where the action is
audited, and publishes its events only after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.events import (
    ConversationClaimed,
    ConversationClosed,
    ConversationOpened,
    Event,
    MessageAdded,
    OutboxReady,
)
from helpline.core.ids import new_id
from helpline.core.models import (
    Conversation,
    Inbound,
    Message,
    OutboxItem,
    StoredMessage,
    User,
)
from helpline.core.ports import Cipher, Notifier, Pseudonymizer, Store, Tx
from helpline.errors import Conflict, Forbidden, InvalidInput, NotFound

SYSTEM = "system"


@dataclass(frozen=True)
class Received:
    """What ``receive`` did: the conversation and message, or that it was a duplicate."""

    conversation_id: str | None
    message_id: str | None
    duplicate: bool
    events: list[Event] = field(default_factory=list)


@dataclass(frozen=True)
class ConversationView:
    """A conversation opened for one reader."""

    conversation: Conversation
    messages: list[Message]


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
        outcomes: Sequence[str],
        max_reply_chars: int,
    ) -> None:
        self._store = store
        self._cipher = cipher
        self._pseudonyms = pseudonyms
        self._notifier = notifier
        self._clock = clock
        self._greeting = greeting
        self._outcomes = frozenset(outcomes)
        self._max_reply_chars = max_reply_chars

    async def receive(self, inbound: Inbound) -> Received:
        """Store one inbound message durably; a redelivery of the same provider message does nothing.

        The idempotency key and routing pseudonym are keyed HMACs; the address is kept only in the
        conversation's vault, sealed under the conversation's own data key.
        """
        idempotency = self._pseudonyms.idempotency(inbound.channel, inbound.provider_message_id)
        route = self._pseudonyms.route(inbound.channel, inbound.address)
        now = self._clock.now()

        async def work(tx: Tx) -> Received:
            if not await tx.inbox.remember(idempotency, now):
                return Received(None, None, duplicate=True)
            events: list[Event] = []
            conversation = await tx.conversations.find_by_route(route)
            opened = conversation is None
            if conversation is None:
                conversation = await self._open(tx, inbound, route, now, events)
            message_id = await self._add_message(
                tx, conversation, direction="in", author_id=None, body=inbound.body, now=now, events=events
            )
            if opened and self._greeting:
                await self._add_message(
                    tx, conversation, direction="out", author_id=None, body=self._greeting, now=now, events=events
                )
            return Received(conversation.id, message_id, duplicate=False, events=events)

        received = await self._store.write(work)
        self._publish(received.events)
        return received

    async def _open(self, tx: Tx, inbound: Inbound, route: bytes, now: datetime, events: list[Event]) -> Conversation:
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
        await tx.conversations.add_route(route, conversation_id)
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
    ) -> str:
        assert conversation.key is not None  # noqa: S101 - open conversations always have a key
        message_id = new_id()
        seq = await tx.conversations.next_seq(conversation.id)
        await tx.messages.insert(
            StoredMessage(
                id=message_id,
                conversation_id=conversation.id,
                seq=seq,
                direction="in" if direction == "in" else "out",
                author_id=author_id,
                author_name=None,
                body=self._cipher.seal(conversation.key, "messages", message_id, "body", body),
                created_at=now,
                delivery=None if direction == "in" else "queued",
                delivery_error=None,
            )
        )
        events.append(MessageAdded(conversation.id, message_id, seq))
        if direction == "out":
            item = OutboxItem(new_id(), message_id, conversation.id, conversation.channel, "pending", 0, now)
            await tx.outbox.add(item)
            events.append(OutboxReady(conversation.id))
        return message_id

    async def queue(self, user: User, limit: int = 200) -> list[Conversation]:
        """What the user's queue shows: waiting conversations in priority order, then their own."""
        return await self._store.read(lambda tx: tx.conversations.queue(user.id, limit))

    async def claim(self, user: User, conversation_id: str) -> Conversation:
        """Take a waiting conversation; exactly one of two volunteers claiming at once wins."""
        now = self._clock.now()

        async def work(tx: Tx) -> Conversation:
            conversation = await tx.conversations.get(conversation_id)
            if conversation is None:
                raise NotFound("There is no such conversation.")
            if conversation.assignee_id == user.id and conversation.status == "active":
                return conversation
            if conversation.status == "closed":
                raise Conflict("This conversation is closed.")
            if not await tx.conversations.claim(conversation_id, user.id):
                raise Conflict("Someone else has already claimed this conversation.")
            await tx.audit.append(AuditEntry(now, user.id, Action.CONVERSATION_CLAIMED, conversation_id))
            claimed = await tx.conversations.get(conversation_id)
            assert claimed is not None  # noqa: S101 - claimed inside this transaction
            return claimed

        claimed = await self._store.write(work)
        self._publish([ConversationClaimed(conversation_id, user.username)])
        return claimed

    async def reply(self, user: User, conversation_id: str, body: str) -> str:
        """Queue a volunteer's reply for sending; returns the message id."""
        if not body.strip():
            raise InvalidInput("Write a reply before sending.")
        if len(body) > self._max_reply_chars:
            raise InvalidInput(f"A reply can be at most {self._max_reply_chars} characters.")
        now = self._clock.now()
        events: list[Event] = []

        async def work(tx: Tx) -> str:
            conversation = await self._visible(tx, user, conversation_id)
            if conversation.status == "closed":
                raise Conflict("This conversation is closed.")
            if conversation.assignee_id != user.id:
                raise Conflict("Claim this conversation before replying.")
            return await self._add_message(
                tx, conversation, direction="out", author_id=user.id, body=body, now=now, events=events
            )

        message_id = await self._store.write(work)
        self._publish(events)
        return message_id

    async def close(self, user: User, conversation_id: str, outcome: str) -> None:
        """Close a conversation with an outcome; the sender's next message opens a new conversation.

        The routing pseudonym goes at once. The vault entry goes now too, unless replies are still
        waiting to be sent, in which case the outbound worker deletes it after the last one.
        """
        if outcome not in self._outcomes:
            raise InvalidInput("Choose one of the listed outcomes.")
        now = self._clock.now()

        async def work(tx: Tx) -> None:
            conversation = await self._visible(tx, user, conversation_id)
            if conversation.status == "closed":
                raise Conflict("This conversation is already closed.")
            if conversation.assignee_id != user.id and not user.is_supervisor:
                raise Conflict("Only the volunteer holding this conversation can close it.")
            await tx.conversations.close(conversation_id, outcome, now)
            await tx.conversations.remove_route(conversation_id)
            if await tx.outbox.pending_for(conversation_id) == 0:
                await tx.conversations.delete_vault(conversation_id)
            await tx.audit.append(
                AuditEntry(now, user.id, Action.CONVERSATION_CLOSED, conversation_id, {"outcome": outcome})
            )

        await self._store.write(work)
        self._publish([ConversationClosed(conversation_id)])

    async def view(self, user: User, conversation_id: str) -> ConversationView:
        """A conversation with its messages opened, if the user may read it."""

        async def work(tx: Tx) -> tuple[Conversation, list[StoredMessage]]:
            conversation = await self._visible(tx, user, conversation_id)
            return conversation, await tx.messages.for_conversation(conversation_id)

        conversation, stored = await self._store.read(work)
        if user.is_supervisor and conversation.assignee_id not in (None, user.id):
            now = self._clock.now()
            entry = AuditEntry(now, user.id, Action.CONVERSATION_VIEWED, conversation_id)
            await self._store.write(lambda tx: tx.audit.append(entry))
        return ConversationView(conversation, [self._open_message(conversation, m) for m in stored])

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

    async def _visible(self, tx: Tx, user: User, conversation_id: str) -> Conversation:
        """The conversation, if this user may see it: a waiting one, their own, or any for supervisors."""
        conversation = await tx.conversations.get(conversation_id)
        if conversation is None:
            raise NotFound("There is no such conversation.")
        if user.is_supervisor or conversation.assignee_id == user.id or conversation.status == "waiting":
            return conversation
        raise Forbidden("Another volunteer holds this conversation.")

    def _publish(self, events: Sequence[Event]) -> None:
        for event in events:
            self._notifier.publish(event)
