"""The two kinds of SQLite connection the store uses, behind the one shape the repositories need.

The reader is an ``aiosqlite`` connection: each statement runs on its own thread, so a slow read never
holds up the event loop. The writer is a ``WriterConnection``: its statements run on the event loop's own
thread, where each takes microseconds (WAL, a warm page cache, no other writer to wait for), and only the
two steps that can wait — ``BEGIN IMMEDIATE`` (another process may hold the write lock) and ``COMMIT``
(the fsync that makes a group durable) — go to a thread of their own. A group of N units then costs two
thread hand-offs instead of one for every statement of every unit.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol


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
        return cls(conn, executor)

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> sqlite3.Cursor:
        return self._conn.execute(sql, tuple(parameters or ()))

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] | None = None) -> list[sqlite3.Row]:
        rows: list[sqlite3.Row] = self._conn.execute(sql, tuple(parameters or ())).fetchall()
        return rows

    async def execute_waiting(self, sql: str) -> None:
        """A statement that may wait (a lock, an fsync, a checkpoint): run on the writer's own thread."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._conn.execute, sql)

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._conn.close)
        self._executor.shutdown(wait=True)
