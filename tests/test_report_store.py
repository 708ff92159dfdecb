"""What the store records for reports: one open availability span at a time, and each person's first reply only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from helpline.core.models import Conversation, User
from helpline.core.ports import Tx
from helpline.store.sqlite.database import SqliteStore
from tests.conftest import FakeClock

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def _store(tmp_path: Path, clock: FakeClock) -> SqliteStore:
    store = SqliteStore(tmp_path / "helpline.db", clock)
    await store.open()

    async def setup(tx: Tx) -> None:
        await tx.users.insert(User("u1", "vol1", frozenset({"volunteer"}), False, "x"), T0)
        await tx.conversations.insert(Conversation("c1", "sms", "waiting", None, None, 0, T0, T0, None, None, None, 0))

    await store.write(setup)
    return store


async def test_availability_spans(tmp_path: Path, clock: FakeClock) -> None:
    """Becoming available twice opens one span; available again at the moment it closed takes that span up again."""
    store = await _store(tmp_path, clock)
    hour = timedelta(hours=1)
    changes = [(True, T0), (True, T0 + hour), (False, T0 + 2 * hour), (True, T0 + 2 * hour), (False, T0 + 3 * hour)]
    changes += [(False, T0 + 4 * hour), (True, T0 + 5 * hour)]
    for available, at in changes:

        async def change(tx: Tx, available: bool = available, at: datetime = at) -> None:
            await tx.reports.record_availability("u1", available, at)

        await store.write(change)
    spans = await store.read(lambda tx: tx.reports.availability(T0, T0 + 24 * hour))
    await store.close()
    assert [(s.username, s.started_at, s.ended_at) for s in spans] == [
        ("vol1", T0, T0 + 2 * hour),
        ("vol1", T0 + 2 * hour, T0 + 3 * hour),
        ("vol1", T0 + 5 * hour, None),
    ]


async def test_first_reply_is_kept(tmp_path: Path, clock: FakeClock) -> None:
    """A second reply by the same person leaves their first reply's time as it was."""
    store = await _store(tmp_path, clock)
    for minutes in (10, 20):

        async def reply(tx: Tx, at: datetime = T0 + timedelta(minutes=minutes)) -> None:
            await tx.reports.record_answer("c1", "u1", at)

        await store.write(reply)
    answers = await store.read(lambda tx: tx.reports.answers(T0, T0 + timedelta(days=1)))
    await store.close()
    assert [(a.conversation_id, a.username, a.first_reply_at) for a in answers] == [
        ("c1", "vol1", T0 + timedelta(minutes=10))
    ]
