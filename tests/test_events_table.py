"""Events across instances on PostgreSQL: the events table, read by every instance's notifier from its own cursor.

Each test opens stores and notifiers on one database as separate server processes would, and checks what the
subscribers of each notifier receive.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import asyncpg
import pytest

from helpline.bus import InProcessBus
from helpline.core.events import ContactTyping, Event, MessageAdded, NoteAdded
from helpline.core.ports import Subscription, Tx
from helpline.core.publishing import write_and_publish
from helpline.store.postgres.database import PostgresStore
from helpline.store.postgres.events import PgEventHistory
from helpline.store.postgres.notifier import PgNotifier
from tests.conftest import FakeClock
from tests.engines import url_of

pytestmark = pytest.mark.postgres_only
TIMEOUT = 10


@dataclass
class Instance:
    store: PostgresStore
    notifier: PgNotifier


@pytest.fixture
async def instances(database_url: str, clock: FakeClock) -> AsyncIterator[list[Instance]]:
    made = []
    for _ in range(3):
        store = await PostgresStore(database_url, clock, pool_min=1, pool_max=3).open()
        notifier = PgNotifier(store.connect, InProcessBus(), clock, poll_seconds=0.5)
        await notifier.start()
        made.append(Instance(store, notifier))
    yield made
    for instance in made:
        await instance.notifier.stop()
        await instance.store.close()


async def next_events(subscription: Subscription, count: int) -> list[Event]:
    got: list[Event] = []
    async with asyncio.timeout(TIMEOUT):
        while len(got) < count:
            got.append(await anext(subscription))
    return got


async def until(condition: Callable[[], bool]) -> None:
    """Wait until a counter another task moves says so (there is no event to wait on)."""
    async with asyncio.timeout(TIMEOUT):
        while not condition():  # noqa: ASYNC110 - a counter another task moves; nothing to wait on
            await asyncio.sleep(0.01)


async def test_a_change_on_one_instance_reaches_the_subscribers_of_every_instance(
    instances: list[Instance],
) -> None:
    """An event recorded in a change's transaction on one instance reaches every instance's subscribers, in order."""
    first = instances[0]
    subscriptions = [i.notifier.subscribe() for i in instances]
    events = [MessageAdded("c1", "m1", 1), NoteAdded("c1", "n1")]

    async def work(tx: Tx) -> None:
        return None

    await write_and_publish(first.store, first.notifier, work, lambda _: events)
    for subscription in subscriptions:
        assert await next_events(subscription, 2) == events


async def test_events_committed_out_of_id_order_are_not_skipped(instances: list[Instance]) -> None:
    """A row that commits after a row with a higher id is still read, once, and before it in order."""
    first, second, reader = instances
    subscription = reader.notifier.subscribe()
    holding = asyncio.Event()
    go = asyncio.Event()

    async def slow(tx: Tx) -> None:
        await tx.events.record([MessageAdded("slow", "m1", 1)])  # takes the lower id and transaction id
        holding.set()
        await asyncio.wait_for(go.wait(), TIMEOUT)

    slow_task = asyncio.create_task(first.store.write(slow))
    await asyncio.wait_for(holding.wait(), TIMEOUT)
    await second.store.write(lambda tx: tx.events.record([MessageAdded("fast", "m2", 1)]))
    reader.notifier.publish(MessageAdded("fast", "m2", 1))  # ring: the fast row is committed, the slow one not
    await until(lambda: reader.notifier.held_reads > 0)
    go.set()
    await slow_task
    reader.notifier.publish(MessageAdded("slow", "m1", 1))
    got = await next_events(subscription, 2)
    assert [e.conversation_id for e in got] == ["slow", "fast"]
    await second.store.write(lambda tx: tx.events.record([NoteAdded("after", "n1")]))
    reader.notifier.publish(NoteAdded("after", "n1"))
    assert await next_events(subscription, 1) == [NoteAdded("after", "n1")]  # nothing read twice


async def test_a_typing_signal_reaches_every_instance_and_nothing_is_stored(
    instances: list[Instance], database_url: str
) -> None:
    """Someone typing is told to every instance's subscribers; the events table holds nothing of it."""
    first, second, _ = instances
    subscription = second.notifier.subscribe()
    first.notifier.signal(ContactTyping("c9", True))
    assert await next_events(subscription, 1) == [ContactTyping("c9", True)]
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT COUNT(*) FROM events") == 0
    finally:
        await conn.close()


async def test_a_listener_cut_off_reconnects_and_catches_up(instances: list[Instance], database_url: str) -> None:
    """When the listening connection is killed, the notifier reconnects and delivers what committed meanwhile."""
    first, second, _ = instances
    subscription = second.notifier.subscribe()
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", second.notifier.listener_pid)
    finally:
        await conn.close()
    for n in range(3):
        await write_and_publish(first.store, first.notifier, _nothing, _events([MessageAdded("c", f"m{n}", n)]))
    got = await next_events(subscription, 3)
    assert [e.seq for e in got if isinstance(e, MessageAdded)] == [0, 1, 2]
    await until(lambda: second.notifier.reconnects >= 1)


async def _nothing(tx: Tx) -> None:
    return None


def _events(events: list[Event]) -> Callable[[None], list[Event]]:
    return lambda _: events


async def test_the_stored_history_replays_what_followed_an_event_and_refuses_what_it_cannot(
    instances: list[Instance],
) -> None:
    """Read back for a resuming console: the events after a stamp, each with its stamp; None once that stamp is
    trimmed away, or when more followed it than a console should be sent."""
    one = instances[0]
    stamped = one.notifier.follow()
    for n in range(4):
        await write_and_publish(one.store, one.notifier, _nothing, _events([MessageAdded("c1", f"m{n}", n + 1)]))
    got: list[tuple[str, Event]] = []
    async with asyncio.timeout(TIMEOUT):
        while len(got) < 4:
            got.append(await anext(stamped))
    stamped.close()
    history = PgEventHistory(one.store.fetch)
    replayed = await history.between(got[0][0], got[-1][0], 10)
    assert replayed == got[1:]
    assert await history.between(got[0][0], got[-1][0], 2) is None  # three followed: reload instead
    assert await history.between(got[-1][0], got[-1][0], 10) == []
    xid, _, row = got[1][0].partition(".")
    await one.store.fetch("DELETE FROM events WHERE (xid, id) <= ($1::text::xid8, $2::bigint)", xid, int(row))
    assert await history.between(got[0][0], got[-1][0], 10) is None  # trimmed past it


async def test_a_long_transaction_in_another_database_does_not_hold_events_back(instances: list[Instance]) -> None:
    """Another database on the same server holds a write transaction open: this database's events still flow."""
    first, _, reader = instances
    subscription = reader.notifier.subscribe()
    elsewhere = await asyncpg.connect(url_of("postgres"))
    try:
        holding = elsewhere.transaction()
        await holding.start()
        await elsewhere.fetchval("SELECT pg_current_xact_id()")  # takes a transaction id, and keeps it
        await first.store.write(lambda tx: tx.events.record([NoteAdded("c1", "n1")]))
        reader.notifier.publish(NoteAdded("c1", "n1"))
        assert await next_events(subscription, 1) == [NoteAdded("c1", "n1")]
        await holding.rollback()
    finally:
        await elsewhere.close()


async def test_a_transaction_in_this_database_still_holds_later_events_back(instances: list[Instance]) -> None:
    """A transaction open in this database, with an id, holds back rows committed after it, until it ends."""
    first, _, reader = instances
    subscription = reader.notifier.subscribe()
    holder = await first.store.connect()
    try:
        holding = holder.transaction()
        await holding.start()
        await holder.fetchval("SELECT pg_current_xact_id()")
        await first.store.write(lambda tx: tx.events.record([NoteAdded("c2", "n2")]))
        reader.notifier.publish(NoteAdded("c2", "n2"))
        await until(lambda: reader.notifier.held_reads > 0)
        await holding.rollback()
        assert await next_events(subscription, 1) == [NoteAdded("c2", "n2")]
    finally:
        await holder.close()
