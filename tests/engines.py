"""Which storage engine the suite runs on, and PostgreSQL databases for tests.

``HELPLINE_TEST_ENGINE=postgresql`` runs every test that uses the database on PostgreSQL (``scripts/test`` runs
the suite once per engine). The schema is migrated once per run into a template database; each test gets a
fresh database copied from it (``CREATE DATABASE … TEMPLATE``), named after this process so that several
runs on one server never meet, and dropped when the test ends.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import asyncpg

from helpline.clock import SystemClock
from helpline.store.postgres.database import PostgresStore

T = TypeVar("T")
ENGINE = os.environ.get("HELPLINE_TEST_ENGINE", "sqlite")
SERVER = os.environ.get("HELPLINE_TEST_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")


def on_postgres() -> bool:
    return ENGINE in ("postgres", "postgresql")


def url_of(database: str) -> str:
    return f"{SERVER}/{database}"


def run_apart(work: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to its end on a thread of its own (callable from inside a running event loop)."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, work()).result()  # type: ignore[arg-type]


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(url_of("postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class Databases:
    """The template database of one test run, and the per-test databases copied from it.

    Creating and dropping a database takes the server a second or so, so one is always being made ready on a
    thread of its own while a test runs, and a finished test's database is dropped there too.
    """

    def __init__(self) -> None:
        self._prefix = f"helpline_test_{os.getpid()}_{secrets.token_hex(3)}"
        self.template = f"{self._prefix}_template"
        self._numbers = itertools.count(1)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-databases")
        self._next: Future[str] | None = None

    def create_template(self) -> None:
        async def work() -> None:
            await _admin(f'CREATE DATABASE "{self.template}"')
            await PostgresStore(url_of(self.template), SystemClock()).migrate()

        self._thread.submit(asyncio.run, work()).result()
        self._next = self._thread.submit(self._create)

    def _create(self) -> str:
        name = f"{self._prefix}_{next(self._numbers)}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return name

    def new(self) -> str:
        """A fresh, migrated database; returns its name."""
        assert self._next is not None
        name = self._next.result()
        self._next = self._thread.submit(self._create)
        return name

    def drop(self, name: str) -> None:
        """Drop the database, on the thread, once the test has closed its connections."""
        self._thread.submit(asyncio.run, _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        """Drop the one made ready for a test that never came, then the template; wait for every drop."""
        if self._next is not None:
            self.drop(self._next.result())
        self.drop(self.template)
        self._thread.shutdown(wait=True)


def empty_database(name: str) -> str:
    """A new database with no helpline schema at all (``drop_database`` removes it); returns its URL."""
    run_apart(lambda: _admin(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    return url_of(name)


def drop_database(name: str) -> None:
    run_apart(lambda: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
