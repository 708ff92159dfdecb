"""Intake: an inbound message is made durable before its webhook is answered, and routed at once or just after.

A provider's webhook is answered once its message is committed, and not before: if we fail, the provider
tries again. A provider waits only so long for an answer (Twilio: 15 seconds by default) before it gives up
on the request, so in a surge the answer must not wait for routing. ``accept`` takes one of two roads:

* **at once**, when nothing is waiting to be routed and fewer than ``route_at_once`` webhooks are being
  routed this way: the message's idempotency key and its routing into the conversation (blocks, routing,
  risk band, greeting, console events, through ``Conversations.receive``) share one transaction. This is
  the usual road, and the cheaper one: one transaction instead of two, and nothing written to the table.
* **through the intake table**, in a surge (or while anything accepted this way still waits): ``accept``
  records the idempotency key and stores the whole message, sealed, in the ``intake`` table, and nothing
  more, so the answer goes back quickly even when messages arrive faster than they can be routed.

The intake worker (``workers/intake.py``) then takes the oldest accepted messages (``take``) and routes
each into its conversation (``route``, through ``Conversations.receive_accepted``), deleting its intake row
in the same transaction, so a message is always in exactly one of the two tables. What this process
accepted is handed to the worker in memory as well, so routing reads nothing back; the table is read at
start (whatever a stop left) and after a failure. A message whose routing fails is tried again; after
``MAX_ATTEMPTS`` failures it is set aside — kept, never dropped — and logged by id (``/metrics`` counts
failed routings since start).
A message whose routing at once fails goes into the table the same way. Messages from one sender stay in
order: a message is routed at once only when nothing accepted before it still waits in the table.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from helpline.clock import Clock
from helpline.core.conversations import Conversations, Received, first_delivery
from helpline.core.ids import new_id
from helpline.core.models import Inbound
from helpline.core.ports import Pseudonymizer, SecretBox, Store, Tx
from helpline.errors import StoreError
from helpline.log import get_logger

log = get_logger(__name__)
# Accepted messages held in memory for routing; beyond this a surge's messages wait in the table only.
MAX_HANDOVER = 10_000
# Failed routings after which an accepted message is set aside (kept and logged) rather than retried.
MAX_ATTEMPTS = 5


class Intake:
    """Accepts inbound messages durably, then routes them into conversations."""

    def __init__(
        self,
        store: Store,
        box: SecretBox,
        pseudonyms: Pseudonymizer,
        conversations: Conversations,
        clock: Clock,
        *,
        route_at_once: int = 256,
    ) -> None:
        self._store = store
        self._box = box
        self._pseudonyms = pseudonyms
        self._conversations = conversations
        self._clock = clock
        # Most webhooks routed in their own transaction at once; beyond that, a surge goes through the table.
        self._route_at_once = route_at_once
        self._arrived = asyncio.Event()
        # Accepted messages waiting to be routed, oldest first; the table holds them too, durably.
        self._handover: deque[Waiting] = deque()
        # True when the table may hold messages the hand-over queue does not (at start: left by a stop).
        self._read_table = True
        # Ids of the messages being routed right now, so a read of the table does not take them twice.
        self._routing: set[str] = set()
        # One queue per sender being routed: a sender's messages are routed one after another, in arrival order
        # (with several writers at once, two of them routed together could commit in either order).
        self._senders: dict[bytes, _SenderTurn] = {}
        # Webhooks being accepted right now: while there are any, the worker routes in small batches.
        self.accepting = 0
        # Of those, the ones being routed at once, and the ones going into the table.
        self._at_once = 0
        self._to_table = 0
        # Counts since start, for /metrics.
        self.accepted = 0
        self.routed = 0
        self.routed_at_once = 0
        self.failures = 0

    async def accept(self, inbound: Inbound) -> bool:
        """Make the message durable (routed at once, or in the intake table); False if it was delivered before."""
        self.accepting += 1
        try:
            if self._at_once < self._route_at_once and not self._waiting():
                self._at_once += 1
                try:
                    routed = await self._route_at_once_or_not(inbound)
                finally:
                    self._at_once -= 1
                if routed is not None:
                    return routed
            self._to_table += 1
            try:
                return await self._accept_to_table(inbound)
            finally:
                self._to_table -= 1
        finally:
            self.accepting -= 1

    def _waiting(self) -> bool:
        """True while a message accepted through the table may not have been routed yet."""
        return bool(self._to_table or self._handover or self._routing or self._read_table)

    async def _route_at_once_or_not(self, inbound: Inbound) -> bool | None:
        """Accept and route in one transaction: whether the message was new, or None if routing failed.

        A failed routing leaves nothing written (its unit rolls back); the caller then puts the message in
        the table, to be tried again. A failed commit is the store's failure, and the webhook's.
        """
        try:
            received = await self._conversations.receive(inbound)
        except StoreError:
            raise
        except Exception as exc:  # noqa: BLE001 - the message goes into the table and is retried from there
            log.error("intake.route_at_once_failed", error=type(exc).__name__)
            return None
        if received.duplicate:
            return False
        self.accepted += 1
        self.routed += 1
        self.routed_at_once += 1
        _log_routed(inbound, received)
        return True

    async def _accept_to_table(self, inbound: Inbound) -> bool:
        """Commit the message to the intake table, for the worker; False if it was delivered before."""
        idempotency = self._pseudonyms.idempotency_candidates(inbound.channel, inbound.provider_message_id)
        intake_id = new_id()
        now = self._clock.now()
        sealed = self._box.seal(_context(intake_id), _encode(inbound))

        async def work(tx: Tx) -> bool:
            if not await first_delivery(tx, idempotency, now):
                return False
            await tx.intake.add(intake_id, now, sealed)
            return True

        fresh = await self._store.write(work)
        if fresh:
            self.accepted += 1
            if not self._read_table and len(self._handover) < MAX_HANDOVER:
                self._handover.append(Waiting(intake_id, now, 0, inbound))
            else:
                self._read_table = True  # left in the table, where the worker will find it
            self._arrived.set()
        return fresh

    @property
    def backlog(self) -> int:
        """Accepted messages handed over and waiting for a routing slot."""
        return len(self._handover)

    def busy(self) -> bool:
        """True while webhooks are being accepted or accepted messages wait to be routed."""
        return bool(self.accepting or self._handover or self._routing)

    async def take(self, limit: int) -> list[Waiting]:
        """Up to ``limit`` of the oldest accepted messages not yet being routed, for ``route``.

        What this process accepted is handed over in memory, in order; the table is read only when it may
        hold messages that memory does not: at start (left by a stop), after a failure, or once the hand-over
        queue was full.
        """
        if self._handover:
            taken = [self._handover.popleft() for _ in range(min(limit, len(self._handover)))]
        elif self._read_table:
            # Cleared before reading: whatever is accepted from now on is handed over in memory as well.
            self._read_table = False
            busy = set(self._routing)
            rows = await self._store.read(lambda tx: tx.intake.waiting(limit + len(busy), MAX_ATTEMPTS))
            self._read_table = len(rows) == limit + len(busy)  # a full read: there may be more
            taken = [
                Waiting(row.id, row.accepted_at, row.attempts, None, row.sealed) for row in rows if row.id not in busy
            ][:limit]
        else:
            return []
        self._routing.update(waiting.id for waiting in taken)
        return taken

    async def route(self, waiting: Waiting) -> None:
        """Store one accepted message in its conversation and remove it from the intake, in one transaction.

        A failure is logged by id and counted; the message stays in the table to be tried again.
        """
        try:
            await self._route(waiting)
        except Exception as exc:  # noqa: BLE001 - the message is kept and retried; the worker goes on
            self.failures += 1
            self._read_table = True
            attempts = waiting.attempts + 1
            log.error("intake.route_failed", intake_id=waiting.id, attempts=attempts, error=type(exc).__name__)
            try:
                await self._store.write(_count_failure(waiting.id))
            except Exception as count_exc:  # noqa: BLE001 - uncounted, it is simply tried again
                log.error("intake.count_failed", intake_id=waiting.id, error=type(count_exc).__name__)
        finally:
            self._routing.discard(waiting.id)

    async def route_waiting(self, limit: int) -> int:
        """Route up to ``limit`` waiting messages, concurrently; how many were taken (tests run this by hand)."""
        taken = await self.take(limit)
        await asyncio.gather(*(self.route(waiting) for waiting in taken))
        return len(taken)

    async def arrival(self) -> None:
        """Wait until a message has been accepted (or ``wake`` was called) since the last call returned."""
        await self._arrived.wait()
        self._arrived.clear()

    def wake(self) -> None:
        """End the current ``arrival`` wait: the worker has room to route more."""
        self._arrived.set()

    async def _route(self, waiting: Waiting) -> None:
        inbound = waiting.inbound or _decode(self._box.open(_context(waiting.id), waiting.sealed))
        sender = self._pseudonyms.route(inbound.channel, inbound.address)
        turn = self._senders.setdefault(sender, _SenderTurn())
        turn.users += 1
        try:
            async with turn.lock:  # FIFO: routings started in arrival order take their turns in it
                await self._route_now(waiting, inbound)
        finally:
            turn.users -= 1
            if not turn.users:
                del self._senders[sender]

    async def _route_now(self, waiting: Waiting, inbound: Inbound) -> None:

        async def settle(tx: Tx) -> bool:
            return await tx.intake.remove(waiting.id)

        received = await self._conversations.receive_accepted(inbound, waiting.accepted_at, settle)
        if received.duplicate:
            return  # routed already
        self.routed += 1
        _log_routed(inbound, received)


@dataclass
class _SenderTurn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


@dataclass(frozen=True)
class Waiting:
    """An accepted message to route: handed over in memory (``inbound``) or read from the table (``sealed``)."""

    id: str
    accepted_at: datetime
    attempts: int
    inbound: Inbound | None
    sealed: bytes = field(default=b"", repr=False)


def _log_routed(inbound: Inbound, received: Received) -> None:
    log.info(
        "message.routed",
        channel=inbound.channel,
        conversation_id=received.conversation_id,
        message_id=received.message_id,
        blocked=received.blocked,
    )


def _count_failure(intake_id: str) -> Callable[[Tx], Awaitable[None]]:
    async def work(tx: Tx) -> None:
        await tx.intake.failed(intake_id)

    return work


def _context(intake_id: str) -> str:
    """What the envelope is bound to: this row, so it cannot be moved to another."""
    return f"intake|{intake_id}|message"


def _encode(inbound: Inbound) -> str:
    return json.dumps(
        {
            "channel": inbound.channel,
            "address": inbound.address,
            "provider_message_id": inbound.provider_message_id,
            "body": inbound.body,
            "thread_refs": list(inbound.thread_refs),
            "reply_context": inbound.reply_context,
            "greet": inbound.greet,
            "delete_at_provider": inbound.delete_at_provider,
        },
        separators=(",", ":"),
    )


def _decode(text: str) -> Inbound:
    data: dict[str, Any] = json.loads(text)
    return Inbound(
        channel=data["channel"],
        address=data["address"],
        provider_message_id=data["provider_message_id"],
        body=data["body"],
        thread_refs=tuple(data["thread_refs"]),
        reply_context=data["reply_context"],
        greet=data["greet"],
        delete_at_provider=data["delete_at_provider"],
    )
