"""The in-process event bus: fan-out of committed events to console sockets and workers.

Each subscriber has its own bounded queue. A subscriber that falls behind loses events rather than
slowing everyone else: it is told so (``Overflowed``) and catches up from the database, which is the
source of truth.

Every event published carries a **stamp**, where it stands in the record of events: for PostgreSQL the
position of its row in the shared ``events`` table (given by ``store/postgres/notifier.py``), on SQLite this
process's own count, prefixed by a number drawn at start (so a stamp from before a restart is known as such).
A signal (someone is typing), recorded nowhere, has the empty stamp. A console that lost its socket sends the
stamp of the last event it saw, and is sent what came after it (``web/live.py``).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import ClassVar

from helpline.core.events import Event

Stamped = tuple[str, Event]


@dataclass(frozen=True)
class Overflowed(Event):
    """The subscriber missed events and must reload what it shows."""

    name: ClassVar[str] = "bus.overflowed"


class InProcessSubscription:
    """Events for one subscriber, from the moment it subscribed; ``close`` when done."""

    def __init__(self, bus: InProcessBus, queue: asyncio.Queue[Stamped]) -> None:
        self._bus = bus
        self._queue = queue

    def __aiter__(self) -> InProcessSubscription:
        return self

    async def __anext__(self) -> Event:
        return (await self._queue.get())[1]

    def close(self) -> None:
        self._bus.unsubscribe(self._queue)


class StampedSubscription:
    """Events with their stamps, for one subscriber, from the moment it subscribed; ``close`` when done."""

    def __init__(self, bus: InProcessBus, queue: asyncio.Queue[Stamped]) -> None:
        self._bus = bus
        self._queue = queue

    def __aiter__(self) -> StampedSubscription:
        return self

    async def __anext__(self) -> Stamped:
        return await self._queue.get()

    def close(self) -> None:
        self._bus.unsubscribe(self._queue)


class InProcessBus:
    """Implements ``core.ports.Notifier`` within one process."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._subscribers: set[asyncio.Queue[Stamped]] = set()
        # Positive, so a stamp reads as two whole numbers whatever the engine.
        self._boot = secrets.randbelow(1 << 48) + 1
        self._count = 0
        self._position = f"{self._boot}.0"

    def publish(self, event: Event, stamp: str | None = None) -> None:
        """Hand ``event`` to every subscriber; ``stamp`` where it stands (by default, this process's next count)."""
        if stamp is None:
            self._count += 1
            stamp = f"{self._boot}.{self._count}"
        if stamp:
            self._position = stamp
        for queue in self._subscribers:
            try:
                queue.put_nowait((stamp, event))
            except asyncio.QueueFull:
                queue.get_nowait()
                queue.put_nowait(("", Overflowed(event.conversation_id)))

    def signal(self, event: Event) -> None:
        """Within one process an unstored event travels as any other does, with no stamp."""
        self.publish(event, "")

    @property
    def position(self) -> str:
        """The stamp of the last stored event handed to the subscribers: a subscription taken now gets what follows."""
        return self._position

    def subscribe(self) -> InProcessSubscription:
        """Every event published from now until the subscription is closed."""
        queue: asyncio.Queue[Stamped] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        return InProcessSubscription(self, queue)

    def follow(self) -> StampedSubscription:
        """As ``subscribe``, with each event's stamp."""
        queue: asyncio.Queue[Stamped] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        return StampedSubscription(self, queue)

    def unsubscribe(self, queue: asyncio.Queue[Stamped]) -> None:
        self._subscribers.discard(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
