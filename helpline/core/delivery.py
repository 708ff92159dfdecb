"""Delivery: taking replies from the outbox, recording what the provider said, and status callbacks.

A reply is sent at most once. Before each attempt the item is durably marked ``sending`` with its
attempt counted. Then:

- accepted: the message is ``sent``; the provider's id is kept sealed, for deletion at the provider;
- a transient failure (5xx, 429, connection refused): retried with exponential backoff;
- a permanent failure (e.g. 21610, opted out): ``failed`` with the code, shown to the volunteer;
- no answer (the request may have been accepted): ``unknown``. The status callback URL carries the
  outbox id, so if the provider did accept it, its callback confirms it. When no callback has come after
  ``unconfirmed_wait``, the item is due again, still ``sending``.

A process that dies mid-send leaves the item ``sending`` too, held for the send lease (longer than any
sender may take to answer); the outbound worker takes every such item as it starts (``interrupted``), without
waiting — where one process owns the database. Where instances share it (``shared``), an item still
``sending`` within its lease may be another instance's send in flight, so the start-up pass takes only those
whose lease has passed (stale), as any later pass would: an instance's sends in flight when it dies are taken
up by another within the lease.
Before an item found ``sending`` is sent again (``Job.resumed``), the worker asks the provider, where it can
(``SentLookup``), whether it already has that text for that address, created since the reply was written: if
so the provider's id is recorded and the reply is ``sent`` without a second send; if not it is sent at once; if
the provider cannot say, nothing is sent and it asks again after ``unconfirmed_wait``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from helpline.clock import Clock
from helpline.core.events import DeliveryChanged, Event
from helpline.core.models import DELIVERY_ORDER, FINAL_DELIVERY, OutboxItem
from helpline.core.ports import Cipher, Notifier, Store, Tx
from helpline.core.publishing import write_and_publish
from helpline.core.retry import DueRule
from helpline.errors import DecryptionError

# Later than any item's next attempt time: what an interrupted item is claimed against.
_ANY_TIME = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Job:
    """One send to make: opened only for the moment of sending."""

    item: OutboxItem
    address: str = field(repr=False)
    body: str = field(repr=False)
    # The item was already ``sending``: a send may have reached the provider. When the reply was written
    # (no send of it can be older).
    resumed: bool = False
    written_at: datetime | None = None


class Delivery:
    """The outbox's state machine; the outbound worker drives it."""

    def __init__(
        self,
        store: Store,
        cipher: Cipher,
        notifier: Notifier,
        clock: Clock,
        rule: DueRule,
        unconfirmed_wait: timedelta,
        vault_grace: timedelta = timedelta(0),
        *,
        shared: bool = False,
    ) -> None:
        self._store = store
        self._shared = shared
        self._vault_grace = vault_grace
        self._cipher = cipher
        self._notifier = notifier
        self._clock = clock
        # The outbox's due-job rule (``core/retry.py``); its lease is how long a send in flight is held.
        self._rule = rule
        self._unconfirmed_wait = unconfirmed_wait

    async def due(self, limit: int) -> list[OutboxItem]:
        now = self._clock.now()
        return await self._store.read(lambda tx: tx.outbox.due(now, limit))

    async def interrupted(self, limit: int) -> list[OutboxItem]:
        """Items left ``sending`` by a process that stopped mid-send: every one, or where instances share the
        database only the stale ones (a fresher one may be a live instance's send in flight)."""
        due_by = self._clock.now() if self._shared else None
        return await self._store.read(lambda tx: tx.outbox.sending(limit, due_by))

    async def start(self, item_id: str, *, interrupted: bool = False) -> Job | None:
        """Mark an item ``sending`` (durably, before any network call) and open what it needs.

        Returns None when there is nothing to send: it was done meanwhile, or the conversation's data
        or vault entry is gone (then the item fails). ``interrupted`` takes an item left ``sending`` before
        its next attempt time.
        """
        now = self._clock.now()
        events: list[Event] = []

        async def work(tx: Tx) -> Job | None:
            events.clear()
            # Locked until this unit ends; None if another worker is starting it: never sent twice. An
            # interrupted item is taken before its next attempt time, if it is still ``sending``.
            item = await tx.outbox.claim(item_id, _ANY_TIME if interrupted else now)
            if item is None:
                return None
            if item.next_attempt_at > now and not (interrupted and item.state == "sending"):
                return None
            if self._rule.gives_up(item.attempts):
                await self._finish(tx, item, "failed", "too_many_attempts", events)
                return None
            conversation = await tx.conversations.get(item.conversation_id)
            message = await tx.messages.get(item.message_id)
            sealed_address = await tx.conversations.get_vault(item.conversation_id)
            if conversation is None or conversation.key is None or message is None or sealed_address is None:
                await self._finish(tx, item, "failed", "no_address", events)
                return None
            try:
                address = self._cipher.open(conversation.key, "vault", conversation.id, "address", sealed_address)
                body = self._cipher.open(conversation.key, "messages", message.id, "body", message.body)
            except DecryptionError:
                # Altered or moved in the database: never send it, and say so.
                await self._finish(tx, item, "failed", "unreadable", events)
                return None
            attempts = item.attempts + 1
            # If we die before the answer, the item is taken up again once the send lease has passed.
            retry_at = self._rule.held_until(now)
            await tx.outbox.update(item.id, "sending", attempts, retry_at)
            await self._set_delivery(tx, item.message_id, "sending", None, events)
            return Job(
                OutboxItem(item.id, item.message_id, item.conversation_id, item.channel, "sending", attempts, retry_at),
                address,
                body,
                resumed=item.state == "sending",
                written_at=message.created_at,
            )

        job = await write_and_publish(self._store, self._notifier, work, lambda _: events)
        return job

    async def accepted(self, item: OutboxItem, provider_id: str) -> None:
        """The provider accepted the message."""
        events: list[Event] = []

        async def work(tx: Tx) -> None:
            events.clear()
            conversation = await tx.conversations.get(item.conversation_id)
            if conversation is not None and conversation.key is not None:
                sealed = self._cipher.seal(conversation.key, "messages", item.message_id, "provider_id", provider_id)
                await tx.messages.set_provider_id(item.message_id, sealed)
            await self._finish(tx, item, "sent", None, events)

        await write_and_publish(self._store, self._notifier, work, lambda _: events)

    async def retry_later(self, item: OutboxItem, code: str) -> None:
        """A transient failure: try again after the backoff, or give up after the last attempt."""
        now = self._clock.now()
        events: list[Event] = []

        async def work(tx: Tx) -> None:
            events.clear()
            if self._rule.gives_up(item.attempts):
                await self._finish(tx, item, "failed", code, events)
                return
            await tx.outbox.update(item.id, "pending", item.attempts, self._rule.again_at(now, item.attempts))
            await self._set_delivery(tx, item.message_id, "queued", None, events)

        await write_and_publish(self._store, self._notifier, work, lambda _: events)

    async def unconfirmed(self, item: OutboxItem) -> None:
        """No answer: wait for a status callback before sending again (the item stays ``sending``)."""
        events: list[Event] = []
        wait_until = self._clock.now() + self._unconfirmed_wait

        async def work(tx: Tx) -> None:
            events.clear()
            await tx.outbox.update(item.id, "sending", item.attempts, wait_until)
            await self._set_delivery(tx, item.message_id, "unknown", None, events)

        await write_and_publish(self._store, self._notifier, work, lambda _: events)

    async def failed(self, item: OutboxItem, code: str) -> None:
        """A permanent failure, shown to the volunteer with the provider's code."""
        events: list[Event] = []

        async def work(tx: Tx) -> None:
            events.clear()
            await self._finish(tx, item, "failed", code, events)

        await write_and_publish(self._store, self._notifier, work, lambda _: events)

    async def status_callback(self, item_id: str, status: str, error_code: str | None) -> bool:
        """The provider reported a delivery status for the outbox item ``item_id``; False if unknown."""
        delivery = {
            "accepted": "sent",
            "queued": "sent",
            "sending": "sent",
            "sent": "sent",
            "delivered": "delivered",
            "undelivered": "undelivered",
            "failed": "failed",
            "read": "delivered",
        }.get(status)
        events: list[Event] = []

        async def work(tx: Tx) -> bool:
            events.clear()
            item = await tx.outbox.get(item_id)
            if item is None:
                return False
            if item.state in ("pending", "sending"):
                # The provider has it: an unconfirmed send is confirmed, and never sent again.
                await self._finish(tx, item, "sent", None, events)
            if delivery is not None:
                await self._set_delivery(tx, item.message_id, delivery, error_code, events)
            return True

        known = await write_and_publish(self._store, self._notifier, work, lambda _: events)
        return known

    async def _finish(self, tx: Tx, item: OutboxItem, delivery: str, code: str | None, events: list[Event]) -> None:
        state = "failed" if delivery == "failed" else "done"
        await tx.outbox.update(item.id, state, item.attempts, item.next_attempt_at)
        await self._set_delivery(tx, item.message_id, delivery, code, events)
        conversation = await tx.conversations.get(item.conversation_id)
        # Closed, and past any grace period during which the contact may write again (the purge worker
        # deletes the vault entry when a grace period ends).
        closed = (
            conversation is not None
            and conversation.status == "closed"
            and (conversation.closed_at is None or conversation.closed_at + self._vault_grace <= self._clock.now())
        )
        if closed and await tx.outbox.pending_for(item.conversation_id) == 0:
            await tx.conversations.delete_vault(item.conversation_id)

    async def _set_delivery(
        self, tx: Tx, message_id: str, delivery: str, code: str | None, events: list[Event]
    ) -> None:
        message = await tx.messages.get(message_id)
        if message is None or not _moves_forward(message.delivery, delivery):
            return
        await tx.messages.set_delivery(message_id, delivery, code)
        events.append(DeliveryChanged(message.conversation_id, message_id, delivery))


def _moves_forward(current: str | None, new: str) -> bool:
    """Callbacks arrive out of order: never move back from a later state, and never leave a final one."""
    if current == new:
        return False
    if current in FINAL_DELIVERY:
        return False
    if current is None:
        return True
    if new in ("queued", "sending", "unknown"):
        return current in ("queued", "sending", "unknown")
    return DELIVERY_ORDER.index(new) > DELIVERY_ORDER.index(current)
