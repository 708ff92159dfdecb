"""The SQLite store: group commit, isolation between units of work, migrations."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from helpline.audit.chain import first_bad
from helpline.audit.events import AuditEntry
from helpline.core.ports import Tx
from helpline.errors import StoreError
from helpline.store.migrations import all_migrations
from helpline.store.sqlite import connection
from helpline.store.sqlite.database import SqliteStore
from tests.conftest import FakeClock


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore(tmp_path / "h.db", clock).open()
    yield opened
    await opened.close()


def appender(clock: FakeClock, n: int) -> Callable[[Tx], Awaitable[None]]:
    return lambda tx: tx.audit.append(entry(clock, n))


def entry(clock: FakeClock, n: int) -> AuditEntry:
    return AuditEntry(clock.now(), "system", "test.entry", f"object-{n}")


async def test_concurrent_writes_commit_in_groups(store: SqliteStore, clock: FakeClock, tmp_path: Path) -> None:
    """Many writers at once share commits: fewer commits than units, and every unit is durable."""
    await asyncio.gather(*(store.write(appender(clock, n)) for n in range(200)))
    assert store.committed_units == 200
    assert store.commits < 200
    with sqlite3.connect(tmp_path / "h.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 200


async def test_a_failing_unit_leaves_its_group_intact(store: SqliteStore, clock: FakeClock) -> None:
    """A unit that raises is rolled back alone; the others in its group commit."""

    async def half_then_fail(tx: Tx) -> None:
        await tx.audit.append(entry(clock, 999))
        raise ValueError("boom")

    results = await asyncio.gather(
        store.write(lambda tx: tx.audit.append(entry(clock, 1))),
        store.write(half_then_fail),
        store.write(lambda tx: tx.audit.append(entry(clock, 2))),
        return_exceptions=True,
    )
    assert isinstance(results[1], ValueError)
    rows = await store.read(lambda tx: tx.audit.rows())
    assert [r.entry.object_id for r in rows] == ["object-1", "object-2"]


async def test_audit_chain_links_in_commit_order(store: SqliteStore, clock: FakeClock) -> None:
    """Audit rows written in one group still form one unbroken chain."""
    await asyncio.gather(*(store.write(appender(clock, n)) for n in range(20)))
    rows = await store.read(lambda tx: tx.audit.rows())
    assert first_bad(rows) is None


async def test_a_write_waits_for_another_process_holding_the_write_lock(
    store: SqliteStore, clock: FakeClock, tmp_path: Path
) -> None:
    """Another process's write (a ``helpline`` command, a backup tool) makes a group wait, off the event loop.

    The group neither fails nor holds up the loop while the lock is taken, and commits once it is free.
    """
    other = sqlite3.connect(tmp_path / "h.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        write = asyncio.create_task(store.write(appender(clock, 1)))
        for _ in range(50):  # the loop goes round freely while the group waits on the writer's thread
            await asyncio.sleep(0)
        assert not write.done()
        other.execute("COMMIT")
        await asyncio.wait_for(write, 10)
    finally:
        other.close()
    rows = await store.read(lambda tx: tx.audit.rows())
    assert [r.entry.object_id for r in rows] == ["object-1"]


async def test_a_write_fails_cleanly_when_the_lock_stays_taken(
    store: SqliteStore, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the wait, the unit gets a StoreError and nothing of it is written; the store goes on working."""
    monkeypatch.setattr(connection, "WAIT_MS", 20)
    other = sqlite3.connect(tmp_path / "h.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError):
            await store.write(appender(clock, 1))
        other.execute("ROLLBACK")
    finally:
        other.close()
    await store.write(appender(clock, 2))
    rows = await store.read(lambda tx: tx.audit.rows())
    assert [r.entry.object_id for r in rows] == ["object-2"]


async def test_writes_after_close_are_refused(tmp_path: Path, clock: FakeClock) -> None:
    """A closed store refuses work clearly, and closing twice is harmless."""
    store = await SqliteStore(tmp_path / "h.db", clock).open()
    await store.close()
    await store.close()
    with pytest.raises(StoreError):
        await store.write(lambda tx: tx.audit.append(entry(clock, 1)))


async def test_migrations_apply_once(tmp_path: Path, clock: FakeClock) -> None:
    """Opening an existing database applies nothing twice."""
    path = tmp_path / "h.db"
    await (await SqliteStore(path, clock).open()).close()
    await (await SqliteStore(path, clock).open()).close()
    with sqlite3.connect(path) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == [m.version for m in all_migrations()]


async def test_durability_settings(store: SqliteStore) -> None:
    """WAL, synchronous=FULL and secure_delete are on for the writer."""

    async def pragmas(tx: Tx) -> tuple[object, ...]:
        conn = tx.audit._conn  # type: ignore[attr-defined]
        return tuple(
            [
                (await conn.execute_fetchall(f"PRAGMA {name}"))[0][0]
                for name in ("journal_mode", "synchronous", "secure_delete")
            ]
        )

    assert await store.write(pragmas) == ("wal", 2, 1)


async def test_roles_migration_keeps_admins_admin_only(tmp_path: Path, clock: FakeClock) -> None:
    """Accounts from before roles were explicit keep their one role; an admin does not become a supervisor."""
    path = tmp_path / "h.db"
    before = [m for m in all_migrations() if m.version < 11]
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT)"
        )
        for migration in before:
            conn.executescript(migration.sql)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?, '')", (migration.version, migration.name))
        for name, role in (("ada", "admin"), ("sam", "supervisor"), ("vic", "volunteer")):
            conn.execute(
                "INSERT INTO users (id, username, role, password_hash, created_at, locked, failed_logins)"
                " VALUES (?, ?, ?, 'x', '2026-01-01T00:00:00.000000Z', 1, 10)",
                (f"id-{name}", name, role),
            )
    store = await SqliteStore(path, clock).open()
    try:
        users = {u.username: u for u in await store.read(lambda tx: tx.users.all())}
    finally:
        await store.close()
    assert {name: u.role_names for name, u in users.items()} == {
        "ada": ["admin"],
        "sam": ["supervisor"],
        "vic": ["volunteer"],
    }
    assert not users["ada"].reads_conversations and users["sam"].is_supervisor
    assert all(u.created_by is None and u.created_at is not None for u in users.values())
