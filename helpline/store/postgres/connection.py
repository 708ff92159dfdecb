"""One asyncpg connection, in the shape the PostgreSQL repositories run their SQL on.

``execute`` answers how many rows a statement changed (asyncpg reports it as a status such as ``UPDATE 1``);
``execute_fetchall`` answers the rows, which read by name and by position as SQLite's rows do. ``locking`` is
True inside a write transaction: then the reads that decide a write take their row locks (``FOR UPDATE``,
``FOR NO KEY UPDATE``, ``SKIP LOCKED``); in a read-only transaction the same reads take none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import asyncpg


@dataclass(frozen=True)
class Result:
    rowcount: int


class PgConnection:
    """A repository's view of one connection inside one transaction."""

    def __init__(self, conn: asyncpg.Connection, *, locking: bool) -> None:
        self._conn = conn
        self.locking = locking

    def lock(self, clause: str) -> str:
        """``clause`` in a write transaction, nothing in a read-only one."""
        return f" {clause}" if self.locking else ""

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Result:
        status = cast(str, await self._conn.execute(sql, *(parameters or ())))
        last = status.rsplit(" ", 1)[-1]
        return Result(int(last) if last.isdigit() else 0)

    def savepoint(self) -> Any:
        """A savepoint (``async with``): a statement that fails inside it undoes only what it did, not the unit."""
        return self._conn.transaction()

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] | None = None) -> Sequence[asyncpg.Record]:
        return cast(Sequence[asyncpg.Record], await self._conn.fetch(sql, *(parameters or ())))
