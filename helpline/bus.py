"""The in-process event bus: fan-out of committed events to console sockets and workers.

Each subscriber has its own bounded queue. A subscriber that falls behind loses events rather than
slowing everyone else: it is told so (``Overflowed``) and catches up from the database, which is the
source of truth.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from helpline.core.events import Event


@dataclass(frozen=True)
class Overflowed(Event):
    """The subscriber missed events and must reload what it shows."""

    name: ClassVar[str] = "bus.overflowed"


class InProcessSubscription:
    """Events for one subscriber, from the moment it subscribed; ``close`` when done."""

    def __init__(self, bus: InProcessBus, queue: asyncio.Queue[Event]) -> None:
        self._bus = bus
        self._queue = queue

    def __aiter__(self) -> InProcessSubscription:
        return self

    async def __anext__(self) -> Event:
        return await self._queue.get()

    def close(self) -> None:
        self._bus.unsubscribe(self._queue)


class InProcessBus:
    """Implements ``core.ports.Notifier`` within one process."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._subscribers: set[asyncio.Queue[Event]] = set()

    def publish(self, event: Event) -> None:
        for queue in self._subscribers:
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                queue.get_nowait()
                queue.put_nowait(Overflowed(event.conversation_id))

    def signal(self, event: Event) -> None:
        """Within one process an unstored event travels as any other does."""
        self.publish(event)

    def subscribe(self) -> InProcessSubscription:
        """Every event published from now until the subscription is closed."""
        queue: asyncio.Queue[Event] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        return InProcessSubscription(self, queue)

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        self._subscribers.discard(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
