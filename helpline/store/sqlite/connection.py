"""The two kinds of SQLite connection the store uses, behind the one shape the repositories need.

The reader is an ``aiosqlite`` connection: each statement runs on its own thread, so a slow read never
holds up the event loop. The writer is a ``WriterConnection``: its statements run on the event loop's own
thread, where each takes microseconds (WAL, a warm page cache, no other writer to wait for). Only what can
wait goes to a thread of its own: ``COMMIT`` (the fsync that makes a group durable), and ``BEGIN
IMMEDIATE`` when another process (a ``helpline`` command, a backup) holds the write lock. ``begin`` first
tries it on the loop's thread without waiting — the writer's own ``busy_timeout`` is 0 — which, with one
server process, succeeds at once; only if the lock is taken does it wait, on the thread, for up to
``WAIT_MS``. A group of N units then costs one thread hand-off instead of one for every statement.

A hand-off is not free under load: its answer waits for the event loop to come round to it, a millisecond
or more when the loop is busy, and the groups behind it wait too.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

# How long a statement that may wait (on the writer's thread) waits for a lock another process holds.
WAIT_MS = 5000


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...


class Connection(Protocol):
    """What a repository runs its SQL on."""

    def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Awaitable[Cursor]: ...

    def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> Awaitable[Iterable[sqlite3.Row]]: ...


class WriterConnection:
    """The single writer: statements inline on the loop's thread, waits on a dedicated thread."""

    def __init__(self, conn: sqlite3.Connection, executor: ThreadPoolExecutor) -> None:
        self._conn = conn
        self._executor = executor

    @classmethod
    async def open(cls, path: Path) -> WriterConnection:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        # Opened on the writer's thread (opening may wait on the file); used from both threads, never at once.
        conn = await asyncio.get_running_loop().run_in_executor(
            executor, lambda: sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        )
        conn.row_factory = sqlite3.Row
        # Statements on the loop's thread never wait for a lock; those that may wait set their own timeout.
        conn.execute("PRAGMA busy_timeout = 0")
        return cls(conn, executor)

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> sqlite3.Cursor:
        return self._conn.execute(sql, tuple(parameters or ()))

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] | None = None) -> list[sqlite3.Row]:
        rows: list[sqlite3.Row] = self._conn.execute(sql, tuple(parameters or ())).fetchall()
        return rows

    async def begin(self) -> None:
        """``BEGIN IMMEDIATE``: at once if the write lock is free, else on the writer's thread, waiting for it."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            await self.execute_waiting("BEGIN IMMEDIATE")

    async def commit(self) -> None:
        """``COMMIT``, on the writer's thread: the fsync that makes the group durable."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._conn.execute, "COMMIT")

    async def execute_waiting(self, sql: str) -> None:
        """A statement that may wait for a lock (or a checkpoint): on the writer's thread, for up to ``WAIT_MS``."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._waiting, sql)

    def _waiting(self, sql: str) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {int(WAIT_MS)}")
        try:
            conn.execute(sql)
        finally:
            conn.execute("PRAGMA busy_timeout = 0")

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._conn.close)
        self._executor.shutdown(wait=True)
