"""``PgPresence``: who has a live console, shared by every instance on one PostgreSQL database.

Each instance keeps its own consoles' heartbeats in memory (``MemoryPresence``: a console socket reaches one
instance only) and, every shift round, writes them as rows (user, instance, last beat) to an unlogged table
and reads back the other instances' latest beats. A user is live wherever any instance last saw them, so a
volunteer whose console is at one instance is present at every one; an instance that died stops beating, and
its volunteers stop being present within the shift round plus the grace between two console pages. Rows hold
user ids and times only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from helpline.core.ids import new_id
from helpline.store.postgres.database import PostgresStore
from helpline.store.presence import MemoryPresence

# Rows no instance has beaten for this long are cleared out (their users are long gone by then).
KEEP = timedelta(days=1)


class PgPresence:
    """Implements ``core.ports.PresenceBook``: this instance's consoles in memory, everyone's through the table."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self._local = MemoryPresence()
        self._instance = new_id()
        self._others: dict[str, datetime] = {}
        self._signed_out: set[str] = set()

    def opened(self, user_id: str, now: datetime) -> None:
        self._local.opened(user_id, now)
        self._signed_out.discard(user_id)

    def beat(self, user_id: str, now: datetime) -> None:
        self._local.beat(user_id, now)

    def closed(self, user_id: str, now: datetime) -> None:
        self._local.closed(user_id, now)

    def signed_out(self, user_id: str) -> None:
        self._local.signed_out(user_id)
        self._others.pop(user_id, None)
        self._signed_out.add(user_id)

    def last_live(self, user_id: str, now: datetime) -> datetime | None:
        here = self._local.last_live(user_id, now)
        there = self._others.get(user_id)
        if here is None or there is None:
            return here or there
        return max(here, there)

    async def share(self, now: datetime) -> None:
        gone = sorted(self._signed_out)
        self._signed_out.clear()
        if gone:
            await self._store.fetch("DELETE FROM console_presence WHERE user_id = ANY($1::text[])", gone)
        live = self._local.seen(now)
        if live:
            await self._store.fetch(
                "INSERT INTO console_presence (user_id, instance, last_beat)"
                " SELECT u, $1, b FROM unnest($2::text[], $3::timestamptz[]) AS t(u, b)"
                " ON CONFLICT (user_id, instance) DO UPDATE SET last_beat = GREATEST(console_presence.last_beat,"
                " EXCLUDED.last_beat)",
                self._instance,
                list(live),
                list(live.values()),
            )
        await self._store.fetch("DELETE FROM console_presence WHERE last_beat < $1", now - KEEP)
        rows = await self._store.fetch(
            "SELECT user_id, MAX(last_beat) AS last_beat FROM console_presence WHERE instance <> $1 GROUP BY user_id",
            self._instance,
        )
        self._others = {row["user_id"]: row["last_beat"] for row in rows if row["user_id"] not in self._signed_out}
