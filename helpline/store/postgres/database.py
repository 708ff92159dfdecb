"""``PostgresStore``: the helpline's store on a PostgreSQL database shared by any number of processes.

Each unit of work is one READ COMMITTED transaction on a pooled connection. The repositories make every
decision that a concurrent writer could invalidate atomic: a conditional ``UPDATE … RETURNING``, a row lock
taken by the read that decides (``FOR UPDATE``), a claim that skips rows another transaction holds (``FOR
UPDATE SKIP LOCKED``), or ``INSERT … ON CONFLICT DO NOTHING`` followed by a read. A transaction that still
loses a race (a serialization failure, 40001, or a deadlock, 40P01) is run again from the start, up to
``ATTEMPTS`` times, then fails cleanly with a ``StoreError``. Work may therefore run more than once: it must
only touch the ``Tx``, as the ``Store`` port asks.

A lost connection, a database that is restarting or a statement that ran past the timeout fail the unit with
``StoreUnavailable`` (the request answers 503); the pool opens fresh connections for the next one, so the server
recovers by itself when the database is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from helpline.clock import Clock
from helpline.core.ports import Tx
from helpline.errors import StoreError, StoreUnavailable
from helpline.log import get_logger
from helpline.store.engine import POSTGRESQL
from helpline.store.postgres import schema
from helpline.store.postgres.connection import PgConnection
from helpline.store.postgres.repos import PgTx

T = TypeVar("T")
log = get_logger(__name__)

# How many times a unit of work that lost a race (40001, 40P01) is run in all.
ATTEMPTS = 5
_LOST_RACE = (asyncpg.SerializationError, asyncpg.DeadlockDetectedError)
# The database went away, is starting or stopping, or took too long: worth trying again later, not a bug.
_UNAVAILABLE = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # the protocol's state when the server vanishes mid-statement
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.QueryCanceledError,
    asyncpg.TooManyConnectionsError,
)
# Session settings that keep a failed statement's values out of the server's log: no DETAIL line (a unique
# violation's DETAIL names the key's value) and no STATEMENT line. Changing them needs a superuser; a role
# without that right gets them from `ALTER ROLE … SET` (see the README), and a warning when they are missing.
_QUIET_ERRORS = {"log_error_verbosity": "terse", "log_min_error_statement": "panic"}


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a connection needs on its way back to the pool: nothing more than asyncpg's own clean-up.

    asyncpg rolls back a transaction left open and drops listeners either way. Its default reset would also
    run ``RESET ALL`` (and more) — a round trip on every unit of work, which also undoes the session settings
    ``_quiet_errors`` made, letting a failed statement's values into the server's log. Pooled connections
    hold no other session state: no ``LISTEN`` (the notifier has its own connection), no advisory lock (only
    migrations take one, on a connection of their own), no ``SET`` but those.
    """


class PostgresStore:
    """Implements ``core.ports.Store`` (and ``Maintenance``) on a PostgreSQL database."""

    engine = POSTGRESQL

    def __init__(
        self,
        url: str,
        clock: Clock,
        *,
        password: str = "",
        pool_min: int = 2,
        pool_max: int = 10,
        statement_timeout_seconds: float = 30.0,
    ) -> None:
        self._url = url
        self._clock = clock
        self._password = password or None
        self._pool_min = pool_min
        self._pool_max = pool_max
        self._timeout_ms = max(1, int(statement_timeout_seconds * 1000))
        self._pool: asyncpg.Pool | None = None
        self._warned_log_settings = False
        self.commits = 0
        self.committed_units = 0
        self.retried = 0

    async def connect(self) -> asyncpg.Connection:
        """A single connection of its own (for migrating, copying, and tests), set up as the pool's are."""
        try:
            conn = await asyncpg.connect(self._url, password=self._password, server_settings=self._settings())
        except _UNAVAILABLE:
            raise StoreUnavailable("the PostgreSQL database is not reachable") from None
        await self._quiet_errors(conn)
        return conn

    def _settings(self) -> dict[str, str]:
        return {"application_name": "helpline", "statement_timeout": str(self._timeout_ms)}

    async def _quiet_errors(self, conn: asyncpg.Connection) -> None:
        for name, value in _QUIET_ERRORS.items():
            try:
                await conn.execute(f"SET {name} = '{value}'")
            except asyncpg.InsufficientPrivilegeError:
                current = await conn.fetchval("SELECT current_setting($1)", name)
                if current != value and not self._warned_log_settings:
                    self._warned_log_settings = True
                    log.warning("store.log_settings_unsafe", setting=name)

    async def migrate(self) -> int:
        """Bring the schema up to date (``helpline init``); returns the version."""
        conn = await self.connect()
        try:
            return await schema.migrate(conn, self._clock.now())
        finally:
            await conn.close()

    async def open(self) -> PostgresStore:
        """Connect the pool, after checking the schema is exactly the one this helpline knows."""
        conn = await self.connect()
        try:
            await schema.check(conn)
        finally:
            await conn.close()
        try:
            self._pool = await asyncpg.create_pool(
                self._url,
                password=self._password,
                min_size=self._pool_min,
                max_size=self._pool_max,
                server_settings=self._settings(),
                init=self._quiet_errors,
                reset=_keep_session,
            )
        except _UNAVAILABLE:
            raise StoreUnavailable("the PostgreSQL database is not reachable") from None
        return self

    def _opened(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreError("the store is closed")
        return self._pool

    async def write(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run ``work`` in a transaction of its own; return once it has committed."""
        pool = self._opened()
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with pool.acquire() as conn, conn.transaction():
                    result = await work(PgTx(PgConnection(conn, locking=True)))
            except _LOST_RACE as exc:
                log.warning("store.lost_race", code=exc.sqlstate, attempt=attempt)
                self.retried += 1
                continue
            except _UNAVAILABLE as exc:
                log.error("store.unavailable", error=type(exc).__name__)
                raise StoreUnavailable("the database is not reachable") from None
            except asyncpg.PostgresError as exc:
                # Never the exception's text: a constraint's message can quote the row's values.
                log.error("store.statement_failed", code=exc.sqlstate)
                raise StoreError("the database could not complete the transaction") from None
            self.commits += 1
            self.committed_units += 1
            return result
        raise StoreError("the database could not complete the transaction (it kept losing to others)")

    async def read(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run ``work`` on a pooled connection, outside any transaction: each statement sees what was committed
        when it ran, as SQLite's reader does, and no row is locked (two round trips fewer than a transaction)."""
        pool = self._opened()
        try:
            async with pool.acquire() as conn:
                return await work(PgTx(PgConnection(conn, locking=False)))
        except _UNAVAILABLE as exc:
            log.error("store.unavailable", error=type(exc).__name__)
            raise StoreUnavailable("the database is not reachable") from None
        except asyncpg.PostgresError as exc:
            log.error("store.statement_failed", code=exc.sqlstate)
            raise StoreError("the database could not answer") from None

    async def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
        """One statement on its own, outside any unit of work (the shared limits' counters)."""
        pool = self._opened()
        try:
            return list(await pool.fetch(sql, *args))
        except _UNAVAILABLE as exc:
            log.error("store.unavailable", error=type(exc).__name__)
            raise StoreUnavailable("the database is not reachable") from None
        except asyncpg.PostgresError as exc:
            log.error("store.statement_failed", code=exc.sqlstate)
            raise StoreError("the database could not complete the statement") from None

    async def ping(self) -> None:
        pool = self._opened()
        try:
            await pool.fetchval("SELECT 1")
        except (*_UNAVAILABLE, asyncpg.PostgresError):
            raise StoreUnavailable("the database is not reachable") from None

    async def checkpoint(self) -> None:
        """Nothing to fold: PostgreSQL recycles its own WAL; a shredded transcript stays unreadable (no key)."""

    async def close(self) -> None:
        """Close the pool. Safe to call twice."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
