"""A unit of work whose events are written in its own transaction and published once it has committed.

Every state change that consoles or chats hear of goes through ``write_and_publish``: the events are
recorded in the change's own transaction (``Tx.events``), so a change and its events commit together or not
at all, and are handed to the notifier only after the commit (a listener never hears of something that then
rolls back). Where instances share a PostgreSQL database, the recorded rows are what every instance reads;
on SQLite the notifier fans them out within the process.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from helpline.core.events import Event
from helpline.core.ports import Notifier, Store, Tx

T = TypeVar("T")


async def write_and_publish(
    store: Store,
    notifier: Notifier,
    work: Callable[[Tx], Awaitable[T]],
    events: Callable[[T], Iterable[Event]],
) -> T:
    """Run ``work``, record ``events(result)`` in the same transaction, and publish them after the commit."""
    recorded: list[Event] = []

    async def unit(tx: Tx) -> T:
        result = await work(tx)
        # Rebuilt on every run: a unit that lost a race is run again from the start.
        recorded[:] = events(result)
        if recorded:
            await tx.events.record(recorded)
        return result

    result = await store.write(unit)
    for event in recorded:
        notifier.publish(event)
    return result
