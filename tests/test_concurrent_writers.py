"""Several writers at once on PostgreSQL: each race has one winner, with two real connections interleaved.

Each test opens two stores on one database (as two server processes would), starts a unit of work on the first
and holds it open at the decisive point, runs the same work on the second, and only then lets the first commit.
Where the second must wait for the first's row lock, the test sees it waiting in ``pg_locks`` before it lets go.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import asyncpg
import pytest

from helpline.app import build
from helpline.audit.chain import first_bad
from helpline.audit.events import AuditEntry
from helpline.core.ids import new_id
from helpline.core.models import (
    CannedResponse,
    Conversation,
    Escalation,
    Inbound,
    OutboxItem,
    StaffNotification,
    StoredMessage,
)
from helpline.core.ports import Tx
from helpline.errors import Conflict, StoreError
from helpline.settings import Settings
from helpline.store.postgres.database import PostgresStore
from tests.conftest import FakeClock
from tests.stored import conversation, two_instances, user

pytestmark = pytest.mark.postgres_only
T = TypeVar("T")


@pytest.fixture
async def stores(database_url: str, clock: FakeClock) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    async with two_instances(database_url, clock, pool_max=3) as both:
        yield both


class Held:
    """A unit of work on one store, stopped at its decisive point until ``release``."""

    def __init__(self, store: PostgresStore, before: Callable[[Tx], Awaitable[T]]) -> None:
        self.reached = asyncio.Event()
        self._go = asyncio.Event()
        self.result: object = None

        async def work(tx: Tx) -> None:
            self.result = await before(tx)
            self.reached.set()
            await asyncio.wait_for(self._go.wait(), 30)

        self.task = asyncio.create_task(store.write(work))

    async def started(self) -> Held:
        await asyncio.wait_for(self.reached.wait(), 30)
        return self

    async def release(self) -> object:
        self._go.set()
        await self.task
        return self.result


async def waiting_on_lock(url: str) -> None:
    """Return once some connection to this database is waiting for a row lock."""
    conn = await asyncpg.connect(url)
    try:
        for _ in range(3000):
            waiting = await conn.fetchval(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if waiting:
                return
            await asyncio.sleep(0.01)  # polling the server's own view of its lock queue, not timing anything
        raise AssertionError("the second transaction never waited for the first one's lock")
    finally:
        await conn.close()


async def test_one_claim_wins(stores: tuple[PostgresStore, PostgresStore], clock: FakeClock, database_url: str) -> None:
    """Two volunteers claim one conversation at once: the second waits for the first, then loses."""
    first, second = stores
    waiting = conversation(clock)
    await first.write(lambda tx: tx.conversations.insert(waiting))
    amira, ben = (await user(first, clock, "amira")).id, (await user(first, clock, "ben")).id
    held = await Held(first, lambda tx: tx.conversations.claim(waiting.id, amira)).started()
    late = asyncio.create_task(second.write(lambda tx: tx.conversations.claim(waiting.id, ben)))
    await waiting_on_lock(database_url)
    assert await held.release() is True
    assert await late is False
    stored = await second.read(lambda tx: tx.conversations.get(waiting.id))
    assert stored is not None and stored.assignee_id == amira


async def test_take_next_passes_over_a_conversation_being_claimed(
    stores: tuple[PostgresStore, PostgresStore], clock: FakeClock
) -> None:
    """While one volunteer's take-next holds the first in the queue, another's is offered the next one at once."""
    first, second = stores
    one, two = conversation(clock), conversation(clock)
    clock.advance(seconds=1)
    two = Conversation(**{**two.__dict__, "waiting_since": clock.now()})
    await first.write(lambda tx: tx.conversations.insert(one))
    await first.write(lambda tx: tx.conversations.insert(two))
    held = await Held(first, lambda tx: tx.conversations.next_waiting()).started()
    offered = await second.write(lambda tx: tx.conversations.next_waiting())
    found = await held.release()
    assert isinstance(found, Conversation) and found.id == one.id
    assert offered is not None and offered.id == two.id


async def test_capacity_checks_take_turns(
    stores: tuple[PostgresStore, PostgresStore], clock: FakeClock, database_url: str
) -> None:
    """Two claims by one volunteer at once: the second's capacity check waits for the first's to commit."""
    first, second = stores
    amira = (await user(first, clock, "amira")).id
    held = await Held(first, lambda tx: tx.users.lock(amira)).started()
    late = asyncio.create_task(second.write(lambda tx: tx.users.lock(amira)))
    await waiting_on_lock(database_url)
    assert not late.done()
    await held.release()
    await late


async def queued_reply(store: PostgresStore, clock: FakeClock) -> OutboxItem:
    open_one = conversation(clock, "active")
    message = StoredMessage(new_id(), open_one.id, 1, "out", None, None, b"sealed", clock.now(), "queued", None)
    item = OutboxItem(new_id(), message.id, open_one.id, "sms", "pending", 0, clock.now())

    async def work(tx: Tx) -> None:
        await tx.conversations.insert(open_one)
        await tx.messages.insert(message)
        await tx.outbox.add(item)

    await store.write(work)
    return item


async def test_one_send(stores: tuple[PostgresStore, PostgresStore], clock: FakeClock) -> None:
    """Two workers start one reply at once: the second is told there is nothing to send, then and after."""
    first, second = stores
    item = await queued_reply(first, clock)
    retry_at = clock.now() + timedelta(minutes=5)

    async def start(tx: Tx) -> OutboxItem | None:
        claimed = await tx.outbox.claim(item.id, clock.now())
        if claimed is not None:
            await tx.outbox.update(item.id, "sending", claimed.attempts + 1, retry_at)
        return claimed

    held = await Held(first, start).started()
    assert await second.write(start) is None
    assert isinstance(await held.release(), OutboxItem)
    assert await second.write(start) is None


async def test_one_oncall_text(
    stores: tuple[PostgresStore, PostgresStore], clock: FakeClock, database_url: str
) -> None:
    """Two workers start one on-call notification at once: only one counts the attempt and sends."""
    first, second = stores
    notice = StaffNotification(new_id(), "sms", "Helpline: an escalation was raised.", "pending", 0, clock.now())
    await first.write(lambda tx: tx.staff_notifications.add(notice, clock.now()))
    retry_at = clock.now() + timedelta(minutes=5)
    held = await Held(first, lambda tx: tx.staff_notifications.claim(notice.id, clock.now(), retry_at)).started()
    late = asyncio.create_task(second.write(lambda tx: tx.staff_notifications.claim(notice.id, clock.now(), retry_at)))
    await waiting_on_lock(database_url)
    started = await held.release()
    assert isinstance(started, StaffNotification) and started.attempts == 1
    assert await late is None


async def test_one_realert(stores: tuple[PostgresStore, PostgresStore], clock: FakeClock) -> None:
    """Two timers find one escalation due at once: only one of them re-alerts it."""
    first, second = stores
    flagged = conversation(clock, "active")
    raiser = (await user(first, clock, "amira")).id
    escalation = Escalation(
        new_id(), flagged.id, "suicide", "concern", b"sealed", "raised", raiser, clock.now(),
        None, None, None, None, None, None, None, clock.now(), 1, None,
    )  # fmt: skip

    async def setup(tx: Tx) -> None:
        await tx.conversations.insert(flagged)
        await tx.escalations.insert(escalation)

    await first.write(setup)
    held = await Held(first, lambda tx: tx.escalations.due_alerts(clock.now())).started()
    assert await second.write(lambda tx: tx.escalations.due_alerts(clock.now())) == []
    assert [e.id for e in await held.release()] == [escalation.id]  # type: ignore[attr-defined]


async def test_audit_chain_never_forks(
    stores: tuple[PostgresStore, PostgresStore], clock: FakeClock, database_url: str
) -> None:
    """Entries appended from two processes at once are linked onto the chain's head in turn: it verifies, in order."""
    first, second = stores

    def append(action: str, object_id: str | None = None) -> Callable[[Tx], Awaitable[None]]:
        return lambda tx: tx.audit.append(AuditEntry(clock.now(), "system", action, object_id))

    def append_and_link(action: str) -> Callable[[Tx], Awaitable[object]]:
        async def work(tx: Tx) -> object:
            await append(action)(tx)
            return await tx.audit.rows()  # links what it may first, holding the chain's head until the unit ends

        return work

    held = await Held(first, append_and_link("test.first")).started()
    late = asyncio.create_task(second.write(append_and_link("test.second")))
    await waiting_on_lock(database_url)  # the second linker waits for the first
    await held.release()
    await late
    await asyncio.gather(*(store.write(append("test.many", str(n))) for n in range(20) for store in (first, second)))
    rows = await first.read(lambda tx: tx.audit.rows())
    assert [row.seq for row in rows] == list(range(1, 43))
    assert [row.entry.action for row in rows[:2]] == ["test.first", "test.second"]
    assert first_bad(rows) is None


async def test_one_conversation_for_a_new_sender(
    stores: tuple[PostgresStore, PostgresStore], clock: FakeClock, database_url: str
) -> None:
    """Two first messages from one new sender at once: the second's route yields to the first's, which it uses."""
    first, second = stores
    route = b"route-pseudonym-of-a-new-sender"
    mine, theirs = conversation(clock), conversation(clock)

    async def open_one(tx: Tx, opened: Conversation) -> bool:
        await tx.conversations.insert(opened)
        routed = await tx.conversations.add_route(route, opened.id)
        if not routed:
            await tx.conversations.discard(opened.id)
        return routed

    held = await Held(first, lambda tx: open_one(tx, mine)).started()
    late = asyncio.create_task(second.write(lambda tx: open_one(tx, theirs)))
    await waiting_on_lock(database_url)
    assert await held.release() is True
    assert await late is False
    found = await second.write(lambda tx: tx.conversations.find_by_route(route))
    assert found is not None and found.id == mine.id
    assert await second.read(lambda tx: tx.conversations.get(theirs.id)) is None


async def test_a_lost_deadlock_is_run_again(
    stores: tuple[PostgresStore, PostgresStore], clock: FakeClock, database_url: str
) -> None:
    """Two units that lock two rows in opposite orders deadlock; the one PostgreSQL aborts is run again and commits."""
    first, second = stores
    amira, ben = (await user(first, clock, "amira")).id, (await user(first, clock, "ben")).id
    in_both = asyncio.Event()
    arrivals = 0

    def crossing(mine: str, other: str) -> Callable[[Tx], Awaitable[None]]:
        async def work(tx: Tx) -> None:
            nonlocal arrivals
            await tx.users.lock(mine)
            arrivals += 1
            if arrivals >= 2:
                in_both.set()
            await asyncio.wait_for(in_both.wait(), 30)
            await tx.users.lock(other)
            await tx.users.set_availability(mine, "available")

        return work

    await asyncio.gather(first.write(crossing(amira, ben)), second.write(crossing(ben, amira)))
    assert first.retried + second.retried == 1
    users = await first.read(lambda tx: tx.users.all())
    assert {u.availability for u in users} == {"available"}


async def test_a_unit_that_keeps_losing_fails_cleanly(stores: tuple[PostgresStore, PostgresStore]) -> None:
    """A unit that loses every time is run a bounded number of times, then fails with a StoreError."""
    first, _ = stores
    runs = 0

    async def always_loses(tx: Tx) -> None:
        nonlocal runs
        runs += 1
        raise asyncpg.SerializationError("could not serialize access")

    with pytest.raises(StoreError):
        await first.write(always_loses)
    assert runs == 5


async def test_two_servers_open_one_conversation_for_a_new_sender(settings: Settings, clock: FakeClock) -> None:
    """Two server processes each receive one of a new sender's first messages at once: one conversation, both in it."""
    first, second = build(settings, clock), build(settings, clock)
    await first.store.open()
    await second.store.open()
    try:
        received = await asyncio.gather(
            *(
                helpline.conversations.receive(Inbound("sms", "+447700900555", f"SM{n:032x}", f"message {n}"))
                for n, helpline in enumerate((first, second, first, second))
            )
        )
        [conversation] = {r.conversation_id for r in received}
        assert conversation is not None
        stored = await first.store.read(lambda tx: tx.messages.for_conversation(conversation))
        assert [m.seq for m in stored] == [1, 2, 3, 4, 5]  # four messages and the greeting
        assert await first.store.read(lambda tx: tx.conversations.waiting_stats()) == (1, clock.now())
    finally:
        await first.store.close()
        await second.store.close()


async def test_two_servers_one_claim_winner(settings: Settings, clock: FakeClock) -> None:
    """Four volunteers on two server processes claim one conversation at once: exactly one holds it."""
    first, second = build(settings, clock), build(settings, clock)
    await first.store.open()
    await second.store.open()
    try:
        received = await first.conversations.receive(Inbound("sms", "+447700900556", "SM" + "1" * 32, "help"))
        assert received.conversation_id is not None
        users = [
            await first.accounts.add_user(f"volunteer{n}", "volunteer", "a long enough password") for n in range(4)
        ]
        outcomes = await asyncio.gather(
            *(
                (first if n % 2 else second).routing.claim(volunteer, received.conversation_id)
                for n, volunteer in enumerate(users)
            ),
            return_exceptions=True,
        )
        assert sum(isinstance(o, Conversation) for o in outcomes) == 1
        assert all(isinstance(o, (Conversation, Conflict)) for o in outcomes)
    finally:
        await first.store.close()
        await second.store.close()


async def test_purge_racing_a_reopening_message(
    stores: tuple[PostgresStore, PostgresStore], clock: FakeClock, database_url: str
) -> None:
    """A purge shredding a closed conversation while a message would reopen it: the message finds it purged."""
    first, second = stores
    gone = conversation(clock, "closed")
    await first.write(lambda tx: tx.conversations.insert(gone))
    held = await Held(first, lambda tx: tx.retention.shred_conversation(gone.id, clock.now())).started()
    late = asyncio.create_task(second.write(lambda tx: tx.conversations.reopen(gone.id, clock.now())))
    await waiting_on_lock(database_url)
    assert await held.release() is True
    assert await late is False
    after = await second.read(lambda tx: tx.conversations.get(gone.id))
    assert after is not None and after.status == "closed" and after.key is None


async def test_a_closing_conversation_takes_a_reply_in_turn(
    stores: tuple[PostgresStore, PostgresStore], clock: FakeClock, database_url: str
) -> None:
    """A reply being queued while the conversation closes waits for the close, then sees it closed."""
    first, second = stores
    open_one = conversation(clock, "active")
    await first.write(lambda tx: tx.conversations.insert(open_one))

    async def close(tx: Tx) -> bool:
        await tx.conversations.lock(open_one.id)
        return await tx.conversations.close(open_one.id, "advice", clock.now())

    held = await Held(first, close).started()
    late = asyncio.create_task(second.write(lambda tx: tx.conversations.lock(open_one.id)))
    await waiting_on_lock(database_url)
    assert await held.release() is True
    seen = await late
    assert seen is not None and seen.status == "closed"


async def test_concurrent_insert_of_one_canned_code_is_a_conflict(
    stores: tuple[PostgresStore, PostgresStore], clock: FakeClock, database_url: str
) -> None:
    """Two new canned responses with one code at once: the second waits for the first, then is refused, not failed."""
    first, second = stores
    mine = CannedResponse(new_id(), "welcome", "Welcome", "Hello, you can talk to us.")
    theirs = CannedResponse(new_id(), "welcome", "Hi", "Hi there.")
    held = await Held(first, lambda tx: tx.canned.upsert(mine, clock.now())).started()
    late = asyncio.create_task(second.write(lambda tx: tx.canned.upsert(theirs, clock.now())))
    await waiting_on_lock(database_url)
    assert await held.release() is True
    assert await late is False
    assert await second.read(lambda tx: tx.canned.all()) == [mine]


async def test_two_servers_saving_one_canned_code_give_one_conflict(settings: Settings, clock: FakeClock) -> None:
    """Admins on two server processes add a response with one code at once: one is saved, the other a Conflict."""
    first, second = build(settings, clock), build(settings, clock)
    await first.store.open()
    await second.store.open()
    try:
        admin = await first.accounts.add_user("ada", "admin", "a long enough password")
        outcomes = await asyncio.gather(
            *(h.canned.save(admin, None, "welcome", f"Welcome {n}", "Hello.") for n, h in enumerate((first, second))),
            return_exceptions=True,
        )
        assert sum(isinstance(o, str) for o in outcomes) == 1
        assert sum(isinstance(o, Conflict) for o in outcomes) == 1
    finally:
        await first.store.close()
        await second.store.close()
