"""What several instances need of the store, on both engines: leased provider deletions, orphaned intake rows,
and a change's events recorded in its own transaction (rows on PostgreSQL, nothing on SQLite)."""

from __future__ import annotations

from datetime import timedelta

from helpline.core.events import MessageAdded
from helpline.store.postgres.database import PostgresStore
from tests.conftest import FakeClock
from tests.stored import Store, message, opened


async def test_a_provider_deletion_is_leased_to_one_worker_until_its_lease_ends(store: Store, clock: FakeClock) -> None:
    """A due deletion is taken once; taken again only after its lease, as when the worker that took it died."""
    held = await opened(store, clock)
    inbound = message(held.id, 1, clock)
    await store.write(lambda tx: tx.messages.insert(inbound, b"sealed-provider-id"))
    assert await store.write(lambda tx: tx.provider_deletions.enqueue(["sms"], ["delivered"], clock.now())) == 1
    lease = clock.now() + timedelta(minutes=1)
    assert await store.write(lambda tx: tx.provider_deletions.claim(inbound.id, clock.now(), lease))
    assert not await store.write(lambda tx: tx.provider_deletions.claim(inbound.id, clock.now(), lease))
    assert await store.read(lambda tx: tx.provider_deletions.due(clock.now(), 10)) == []
    clock.advance(minutes=2)
    later = clock.now() + timedelta(minutes=1)
    assert await store.write(lambda tx: tx.provider_deletions.claim(inbound.id, clock.now(), later))


async def test_intake_rows_can_be_asked_for_by_age(store: Store, clock: FakeClock) -> None:
    """Only rows accepted before the given time come back: those another instance has left behind."""
    await store.write(lambda tx: tx.intake.add("old", clock.now(), b"\x01" * 40))
    clock.advance(seconds=30)
    await store.write(lambda tx: tx.intake.add("new", clock.now(), b"\x02" * 40))
    before = clock.now() - timedelta(seconds=10)
    assert [a.id for a in await store.read(lambda tx: tx.intake.waiting(10, 5, before))] == ["old"]
    assert [a.id for a in await store.read(lambda tx: tx.intake.waiting(10, 5))] == ["old", "new"]


async def test_events_are_recorded_only_where_instances_share_the_database(store: Store, database_url: str) -> None:
    """On PostgreSQL a unit's events become rows with ids only; on SQLite nothing is written."""
    await store.write(lambda tx: tx.events.record([MessageAdded("conversation-1", "message-1", 3)]))
    if isinstance(store, PostgresStore):
        conn = await store.connect()
        try:
            rows = await conn.fetch("SELECT kind, conversation_id, body FROM events")
        finally:
            await conn.close()
        assert [tuple(r) for r in rows] == [("message.added", "conversation-1", '{"message_id":"message-1","seq":3}')]
    else:
        assert not database_url
