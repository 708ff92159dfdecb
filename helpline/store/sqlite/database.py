"""``SqliteStore``: the one object that owns the SQLite database.

One writer connection runs every write, so writes never contend. Callers hand it units of work; the
writer takes every unit queued so far, runs each inside its own savepoint within one ``BEGIN IMMEDIATE``
transaction, commits once (one fsync for the whole group, durable with ``synchronous=FULL``), and only then
answers each caller. A unit that raises rolls back to its savepoint and gets its exception; the others in
the group still commit. While one group commits, the next one gathers — so under load, groups grow and
fsyncs per message shrink. Reads go through a separate read-only connection that WAL lets run alongside
the writer. The writer's statements run on the event loop's thread and only ``COMMIT`` (and a ``BEGIN
IMMEDIATE`` that must wait for another process's lock) on a thread of its own (see ``connection.py``): a
group costs one thread hand-off, however many statements its units run.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from helpline.clock import Clock, to_text
from helpline.core.ports import Tx
from helpline.errors import StoreError
from helpline.log import get_logger
from helpline.store.engine import SQLITE
from helpline.store.migrations import all_migrations
from helpline.store.sqlite.connection import WriterConnection
from helpline.store.sqlite.repos import SqliteTx

T = TypeVar("T")
log = get_logger(__name__)


@dataclass
class _Job:
    work: Callable[[Tx], Awaitable[Any]]
    future: asyncio.Future[Any]


class SqliteStore:
    """Implements ``core.ports.Store`` on one SQLite file."""

    engine = SQLITE

    def __init__(self, path: Path, clock: Clock, *, synchronous: str = "FULL", max_batch: int = 256) -> None:
        self._path = path
        self._uri = f"{path.resolve().as_uri()}?mode=ro"
        self._clock = clock
        self._synchronous = synchronous.upper()
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Job | None] = asyncio.Queue()
        self._writer: WriterConnection | None = None
        # Held while the writer is in use: a group transaction, or a checkpoint between two groups.
        self._writing = asyncio.Lock()
        self._reader: aiosqlite.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.commits = 0
        self.committed_units = 0

    async def open(self) -> SqliteStore:
        """Connect, apply any pending migrations, and start the writer."""
        self._writer = await self._open_writer()
        try:
            await migrate(self._writer, self._clock)
        except StoreError:
            await self._writer.close()
            self._writer = None
            raise
        self._reader = await self._connect_reader()
        self._task = asyncio.create_task(self._write_loop(), name="sqlite-writer")
        return self

    async def _connect_reader(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self._uri, uri=True, isolation_level=None)
        conn.row_factory = sqlite3.Row
        await conn.execute("PRAGMA busy_timeout = 5000")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA query_only = ON")
        return conn

    async def _open_writer(self) -> WriterConnection:
        conn = await WriterConnection.open(self._path)
        await conn.execute_waiting("PRAGMA foreign_keys = ON")
        await conn.execute_waiting("PRAGMA journal_mode = WAL")
        # synchronous is one of NORMAL/FULL/EXTRA, checked when settings load.
        await conn.execute_waiting(f"PRAGMA synchronous = {self._synchronous}")
        # Deleted rows are overwritten with zeros, so no plaintext or key material lingers in free pages.
        await conn.execute_waiting("PRAGMA secure_delete = ON")
        return conn

    async def write(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run ``work`` in the next group transaction; return once that transaction is durable."""
        if self._closed or self._task is None:
            raise StoreError("the store is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Job(work, future))
        return await future

    async def read(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run ``work`` against the read-only connection."""
        if self._reader is None:
            raise StoreError("the store is closed")
        return await work(SqliteTx(self._reader))

    async def ping(self) -> None:
        if self._reader is None:
            raise StoreError("the store is closed")
        await self._reader.execute_fetchall("SELECT 1")

    async def checkpoint(self) -> None:
        """Fold the WAL back into the database file and truncate it."""
        await self.write(lambda tx: asyncio.sleep(0))
        if self._writer is not None:
            async with self._writing:
                await self._writer.execute_waiting("PRAGMA wal_checkpoint(TRUNCATE)")

    async def close(self) -> None:
        """Finish every queued write, then close both connections. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._task is not None:
            self._queue.put_nowait(None)
            await self._task
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    async def _write_loop(self) -> None:
        while True:
            first = await self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self._max_batch and not self._queue.empty():
                job = self._queue.get_nowait()
                if job is None:
                    stop = True
                    break
                batch.append(job)
            async with self._writing:
                await self._run(batch)
            if stop:
                return

    async def _run(self, batch: list[_Job]) -> None:
        conn = self._writer
        assert conn is not None  # noqa: S101 - the loop only runs while open
        outcomes: list[tuple[_Job, Any, BaseException | None]] = []
        try:
            await conn.begin()
            tx = SqliteTx(conn)
            for job in batch:
                await conn.execute("SAVEPOINT unit")
                try:
                    result = await job.work(tx)
                except Exception as exc:  # noqa: BLE001 - handed to the unit's caller
                    await conn.execute("ROLLBACK TO unit")
                    await conn.execute("RELEASE unit")
                    outcomes.append((job, None, exc))
                else:
                    await conn.execute("RELEASE unit")
                    outcomes.append((job, result, None))
            await conn.commit()
        except (sqlite3.Error, ValueError) as exc:
            log.error("store.commit_failed", error=type(exc).__name__, units=len(batch))
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(StoreError("the database could not complete the transaction"))
            return
        self.commits += 1
        self.committed_units += len(batch)
        for job, result, error in outcomes:
            if job.future.done():
                continue
            if error is None:
                job.future.set_result(result)
            else:
                job.future.set_exception(error)


async def migrate(conn: WriterConnection, clock: Clock) -> int:
    """Apply every migration not yet applied; returns the schema version."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL)"
    )
    rows = await conn.execute_fetchall("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
    current = int(next(iter(rows))[0])
    latest = all_migrations()[-1].version
    if current > latest:
        raise StoreError(
            f"the database's schema is at version {current}, newer than this helpline knows ({latest}):"
            " run the newer helpline"
        )
    for migration in all_migrations():
        if migration.version <= current:
            continue
        try:
            await conn.begin()
            for statement in _statements(migration.sql):
                await conn.execute(statement)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, to_text(clock.now())),
            )
            await conn.execute_waiting("COMMIT")
        except sqlite3.Error:
            await conn.execute("ROLLBACK")
            raise StoreError(f"migration {migration.name} failed") from None
        current = migration.version
    return current


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (migrations contain no semicolons inside literals)."""
    lines = [line.split("--", 1)[0] for line in sql.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
