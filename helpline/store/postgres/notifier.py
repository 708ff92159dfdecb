"""``PgNotifier``: events across every instance that shares one PostgreSQL database.

Each change writes its events into the ``events`` table in its own transaction (``store/postgres/events.py``).
Every instance reads that table from a cursor of its own and hands what it reads to its in-process bus, from
which its console and chat sockets and its workers take them. The table, not the doorbell, is the truth:

* **Order without gaps.** Row ids are handed out before commit, so rows commit out of id order. A reader
  therefore takes only rows whose transaction ids are below the horizon — the oldest transaction still running
  in this database: every transaction below it has ended, and every one still to write is above it — in
  (transaction id, row id) order, and moves its cursor past them. A row committed late by a long transaction
  is taken once that transaction ends, never skipped. The horizon is read first, in a statement of its own,
  and the rows after it, so every transaction below it had ended before the rows' snapshot was taken.
  Transactions in other databases on the same server cannot write these rows and do not hold them back; where
  another role's sessions in this database are hidden from the helpline's role in ``pg_stat_activity``, the
  horizon falls back to the oldest transaction on the whole server.
* **A doorbell, not a channel.** After a commit this instance reads at once, and sends ``NOTIFY`` (empty)
  so the others read too. It is sent after the commit, never inside the data transaction (a transaction that
  notifies takes a lock at commit that serialises every notifying commit). Rows held back by the horizon are
  read again every few milliseconds until they can be taken; without any ring the table is read every
  ``poll_seconds``.
* **Its own connection.** The listener is a direct connection, not the pool's (a pool resets ``LISTEN`` when a
  connection goes back, and pgbouncer's transaction mode has none). A silent dead link is found by a ping;
  after any failure it reconnects with a growing pause, and its first read catches up on what was missed.
* **Signals.** Events nothing stores (someone is typing) travel in a ``NOTIFY`` payload — ids and a flag,
  well under the 8,000-byte cap — to every instance, this one included, and are lost if the link is down.

Rows older than ``keep`` are trimmed by whichever instance gets there first. On the same connection, each
instance links audit entries into the hash chain (``audit_link()``, migration 0018) at most every
``LINK_SECONDS`` while anything wakes it, and at every poll: cheap when nothing waits, and whichever instance
gets there first links what is pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

import asyncpg

from helpline.clock import Clock
from helpline.core.events import Event
from helpline.core.ports import StampedSubscription, Subscription
from helpline.log import get_logger
from helpline.store.postgres.events import Position, decode, encode

log = get_logger(__name__)
DOORBELL = "helpline_events"
SIGNALS = "helpline_signals"
# Rows read at once; a longer backlog is read in several rounds.
BATCH = 500
# How soon rows held back by the horizon (a transaction still running) are read again: at first, and at most.
# Nothing rings when the holding transaction ends (it may be a command's, not a server's), so held rows are
# read again this often, a cheap indexed read, until they can be taken.
HELD_RETRY_SECONDS = 0.005
HELD_MAX_SECONDS = 0.05
# How often, at most, audit entries are linked into the chain (each link is a transaction with a commit of its own).
LINK_SECONDS = 0.2
# The oldest transaction id still running in this database (the next to be handed out when none is): the
# next id less the age of the oldest running one. Its age is read after the next id, so it can only come out
# lower (held longer), never higher. A session of this database the role may not see falls back to the oldest
# transaction on the whole server.
HORIZON = (
    "SELECT CASE WHEN bool_or(a.query = '<insufficient privilege>')"
    " THEN pg_snapshot_xmin(pg_current_snapshot())::text"
    " ELSE (pg_snapshot_xmax(pg_current_snapshot())::text::bigint - COALESCE(max(age(a.backend_xid)), 0))::text END"
    " FROM pg_stat_activity a WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()"
)
_READ = (
    "SELECT e.xid::text AS xid, e.id, e.kind, e.conversation_id, e.body, e.xid < $4::text::xid8 AS ready"
    " FROM events e WHERE (e.xid, e.id) > ($1::text::xid8, $2::bigint) ORDER BY e.xid, e.id LIMIT $3"
)


class Fanout(Protocol):
    """The in-process bus this notifier hands what it reads to (``helpline/bus.py``)."""

    def publish(self, event: Event, stamp: str | None = None) -> None: ...
    def signal(self, event: Event) -> None: ...
    def subscribe(self) -> Subscription: ...
    def follow(self) -> StampedSubscription: ...


_LOST = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)


class PgNotifier:
    """Implements ``core.ports.Notifier`` for instances sharing a PostgreSQL database; ``bus`` fans out here."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        bus: Fanout,
        clock: Clock,
        *,
        poll_seconds: float = 1.0,
        ping_seconds: float = 5.0,
        keep: timedelta = timedelta(days=1),
    ) -> None:
        self._connect = connect
        self._bus = bus
        self._clock = clock
        self._poll_seconds = poll_seconds
        self._ping_seconds = ping_seconds
        self._keep = keep
        self._wake = asyncio.Event()
        self._ring = False
        self._signals: list[str] = []
        self._cursor = Position(0, 0)
        self._next_trim: datetime | None = None
        self._next_link = 0.0
        self._task: asyncio.Task[None] | None = None
        self._pid: int | None = None
        # Counts since start: reconnections of the listener, rows read, and reads that found rows held back.
        self.reconnects = 0
        self.read_rows = 0
        self.held_reads = 0

    # -- core.ports.Notifier ------------------------------------------------------------------------------

    def publish(self, event: Event) -> None:
        """The event's row is committed: read it now, and ring the other instances."""
        self._ring = True
        self._wake.set()

    def signal(self, event: Event) -> None:
        kind, conversation_id, body = encode(event)
        self._signals.append(json.dumps([kind, conversation_id, body], separators=(",", ":")))
        self._wake.set()

    def subscribe(self) -> Subscription:
        return self._bus.subscribe()

    def follow(self) -> StampedSubscription:
        """Each event with its row's position in the ``events`` table, the same at every instance."""
        return self._bus.follow()

    # -- running --------------------------------------------------------------------------------------------

    @property
    def position(self) -> str:
        """The last row handed to the bus, as an opaque token."""
        return self._cursor.token()

    async def start(self) -> None:
        """Connect, start reading from the rows that commit from now on, and keep reading until ``stop``."""
        conn = await self._listen()
        horizon = await conn.fetchval(HORIZON)
        # Every row below the horizon is history; a row at or above it commits from now on.
        self._cursor = Position(int(horizon), 0)
        self._task = asyncio.create_task(self._run(conn), name="pg-notifier")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def listener_pid(self) -> int | None:
        """The server process of the listening connection (for an operator's ``pg_stat_activity``)."""
        return self._pid

    async def _listen(self) -> asyncpg.Connection:
        conn = await self._connect()
        self._pid = conn.get_server_pid()
        await conn.add_listener(DOORBELL, self._rung)
        await conn.add_listener(SIGNALS, self._signalled)
        return conn

    def _rung(self, conn: object, pid: int, channel: str, payload: str) -> None:
        if pid == self._pid:
            return  # our own ring, sent just before this instance read the table anyway
        self._wake.set()

    def _signalled(self, conn: object, pid: int, channel: str, payload: str) -> None:
        try:
            kind, conversation_id, body = json.loads(payload)
            event = decode(str(kind), str(conversation_id), str(body))
        except (ValueError, TypeError):
            return
        if event is not None:
            self._bus.signal(event)

    async def _run(self, conn: asyncpg.Connection | None) -> None:
        pause = 0.2
        while True:
            try:
                if conn is None:
                    conn = await self._listen()
                    self.reconnects += 1
                    log.info("events.listener_reconnected")
                await self._serve(conn)
            except asyncio.CancelledError:
                if conn is not None:
                    conn.terminate()
                raise
            except _LOST as exc:
                log.warning("events.listener_lost", error=type(exc).__name__)
                if conn is not None:
                    conn.terminate()
                conn = None
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)
                continue
            pause = 0.2  # pragma: no cover - _serve returns only by raising

    async def _serve(self, conn: asyncpg.Connection) -> None:
        """Read, then wait for a ring, a commit here, held rows, a poll or a ping; until the link fails."""
        held_wait = HELD_RETRY_SECONDS
        while True:
            if self._ring:
                self._ring = False
                await conn.execute(f"NOTIFY {DOORBELL}")
            while self._signals:
                payload = self._signals.pop(0)
                await conn.execute("SELECT pg_notify($1, $2)", SIGNALS, payload)
            before = self.read_rows
            held = await self._read(conn)
            await self._trim(conn)
            await self._link_audit(conn)
            # Held rows are read again soon, then less and less often while one transaction holds them back; any
            # progress starts the pauses short again (under a steady load some row is nearly always held).
            if not held or self.read_rows > before:
                held_wait = HELD_RETRY_SECONDS
            wait = held_wait if held else self._poll_seconds
            if held:
                held_wait = min(held_wait * 2, HELD_MAX_SECONDS)
            woken = False
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(wait, self._ping_seconds)):
                    await self._wake.wait()
                    woken = True
            self._wake.clear()
            if not woken and not held:
                async with asyncio.timeout(self._ping_seconds):
                    await conn.fetchval("SELECT 1")

    async def _read(self, conn: asyncpg.Connection) -> bool:
        """Hand every row below the horizon to the bus; True if committed rows wait behind it."""
        while True:
            # Two statements, in this order: every transaction below the horizon ended before the rows are read.
            horizon = await conn.fetchval(HORIZON)
            rows = await conn.fetch(_READ, str(self._cursor.xid), self._cursor.id, BATCH, horizon)
            taken = 0
            for row in rows:
                if not row["ready"]:
                    self.held_reads += 1
                    return True
                self._cursor = Position(int(row["xid"]), int(row["id"]))
                taken += 1
                event = decode(row["kind"], row["conversation_id"], row["body"])
                if event is not None:
                    self._bus.publish(event, self._cursor.token())
            self.read_rows += taken
            if len(rows) < BATCH:
                return False

    async def _link_audit(self, conn: asyncpg.Connection) -> None:
        now = asyncio.get_running_loop().time()
        if now < self._next_link:
            return
        self._next_link = now + LINK_SECONDS
        await conn.execute("SELECT audit_link()")

    async def _trim(self, conn: asyncpg.Connection) -> None:
        now = self._clock.now()
        if self._next_trim is not None and now < self._next_trim:
            return
        self._next_trim = now + timedelta(hours=1)
        await conn.execute("DELETE FROM events WHERE created_at < $1", now - self._keep)
