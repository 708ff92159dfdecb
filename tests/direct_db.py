"""Reading and altering a test's database directly (as an attacker with a copy would), on either engine.

Statements use ``?`` placeholders on both engines; on PostgreSQL they become ``$1, $2, …`` here, in the tests'
helper only (the server's own SQL is written for each engine). PostgreSQL is reached through asyncpg on a
thread of its own, so a test can call these from inside its event loop without awaiting.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from helpline.clock import to_text
from helpline.settings import Settings


def _numbered(sql: str) -> str:
    count = 0

    def number(_: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"${count}"

    return re.sub(r"\?", number, sql)


def _as_stored(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Times as SQLite stores them (``to_text``), so a test compares them the same way on both engines."""
    return tuple(to_text(v) if isinstance(v, datetime) else v for v in row)


class DirectDb:
    """One test database: the SQLite file, or the PostgreSQL database at ``url``."""

    def __init__(self, path: Path, url: str = "") -> None:
        self.path = path
        self.url = url

    @classmethod
    def of(cls, settings: Settings) -> DirectDb:
        return cls(settings.storage.database, settings.storage.database_url)

    @property
    def postgres(self) -> bool:
        return bool(self.url)

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """The rows a query returns, as tuples."""
        if self.postgres:
            self._link_audit()
            return [_as_stored(tuple(row)) for row in self._pg(lambda conn: conn.fetch(_numbered(sql), *params))]
        with sqlite3.connect(self.path) as conn:
            return list(conn.execute(sql, params))

    def _link_audit(self) -> None:
        """Link committed audit entries into the chain first, as a running server does within a
        fraction of a second (and ``audit verify`` does), so that a test reads what the server has committed."""
        self._pg(lambda conn: conn.execute("SELECT audit_link()"))

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """Run one statement and commit it."""
        if self.postgres:
            self._pg(lambda conn: conn.execute(_numbered(sql), *params))
            return
        with sqlite3.connect(self.path) as conn:
            conn.execute(sql, params)

    def table(self, name: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """A whole table: its column names and its rows."""
        if self.postgres:
            self._link_audit()
            records = self._pg(lambda conn: conn.fetch(f'SELECT * FROM "{name}"'))  # noqa: S608 - a table's name
            columns = list(records[0].keys()) if records else []
            return columns, [_as_stored(tuple(r)) for r in records]
        with sqlite3.connect(self.path) as conn:
            cursor = conn.execute(f"SELECT * FROM {name}")  # noqa: S608 - a table's name
            return [d[0] for d in cursor.description], list(cursor)

    def stored_bytes(self) -> bytes:
        """Everything at rest: the database file and its WAL, or everything pg_dump reads."""
        if self.postgres:
            return self.dump()
        wal = self.path.with_name(self.path.name + "-wal")
        return self.path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")

    def dump(self) -> bytes:
        """Everything the database holds, as a backup of it would: the file, or pg_dump's output."""
        if self.postgres:
            return subprocess.run(  # noqa: S603 - fixed program, the test's own database
                ["pg_dump", "--no-owner", self.url],  # noqa: S607 - pg_dump from the PATH, as an operator runs it
                check=True,
                capture_output=True,
            ).stdout
        return self.path.read_bytes()

    def tables(self) -> list[str]:
        """Every table's name."""
        if self.postgres:
            return [r[0] for r in self.rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return [r[0] for r in self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")]

    def _pg(self, work: Any) -> Any:
        async def run() -> Any:
            conn = await asyncpg.connect(self.url)
            try:
                return await work(conn)
            finally:
                await conn.close()

        with ThreadPoolExecutor(max_workers=1) as thread:
            return thread.submit(asyncio.run, run()).result()


def at_rest(data_dir: Path, db: DirectDb) -> dict[str, bytes]:
    """Every file of the instance but the master key, by name; on PostgreSQL, its database's dump as well."""
    files = {p.name: p.read_bytes() for p in data_dir.rglob("*") if p.is_file() and p.name != "master.key"}
    if db.postgres:
        files["pg_dump"] = db.dump()
    return files
