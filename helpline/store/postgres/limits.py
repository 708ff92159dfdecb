"""``PgLimits``: web chat's rate limits and ended chats, shared by every instance on one PostgreSQL database.

Each limit is a token bucket, one row per (limit, key) in an unlogged table (written without the WAL: losing
the counters in a crash only forgives a few messages), taken in one statement: the insert of a fresh bucket
or the refill-and-take of an existing one, which does nothing when less than one token is left, so two
instances taking the last token at once cannot both have it. Ended chats are kept (logged) until their token
would have expired anyway. Keys are keyed HMACs of networks or hashes of random chat addresses.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from helpline.store.postgres.database import PostgresStore

_REFILLED = (
    "LEAST($3::float8, b.tokens + GREATEST(EXTRACT(EPOCH FROM ($4::timestamptz - b.updated_at))::float8, 0) * $5)"
)
_TAKE = (
    "INSERT INTO limit_buckets AS b (name, key, tokens, updated_at) VALUES ($1, $2, $3::float8 - 1, $4)"  # noqa: S608 - fixed text
    f" ON CONFLICT (name, key) DO UPDATE SET tokens = {_REFILLED} - 1, updated_at = GREATEST(b.updated_at, $4)"
    f" WHERE {_REFILLED} >= 1 RETURNING b.tokens"
)
_LEFT = f"SELECT {_REFILLED} AS tokens FROM limit_buckets b WHERE b.name = $1 AND b.key = $2"  # noqa: S608 - fixed text
# How often old buckets and expired ended chats are cleared out (by whichever instance takes a token then).
SWEEP_EVERY = timedelta(minutes=5)


class PgLimits:
    """Implements ``core.ports.SharedLimits``."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self._next_sweep: datetime | None = None

    async def take(self, name: str, key: bytes, capacity: int, window: timedelta, now: datetime) -> float | None:
        rate = capacity / window.total_seconds()
        await self._sweep(now)
        if await self._store.fetch(_TAKE, name, key, float(capacity), now, rate):
            return None
        rows = await self._store.fetch(_LEFT, name, key, float(capacity), now, rate)
        left = float(rows[0]["tokens"]) if rows else 0.0
        return max(1.0 - left, 0.0) / rate

    async def end_chat(self, key: bytes, until: datetime) -> None:
        await self._store.fetch(
            "INSERT INTO ended_chats (key, until) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", key, until
        )

    async def chat_ended(self, key: bytes, now: datetime) -> bool:
        return bool(await self._store.fetch("SELECT 1 FROM ended_chats WHERE key = $1 AND until > $2", key, now))

    async def open_chats(self) -> int:
        rows = await self._store.fetch(
            "SELECT COUNT(*) FROM conversations WHERE channel = 'webchat' AND status <> 'closed'"
            " AND contact_left_at IS NULL"
        )
        return int(rows[0][0])

    async def _sweep(self, now: datetime) -> None:
        if self._next_sweep is not None and now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_EVERY
        # A bucket untouched for an hour (the longest window) has refilled: it says nothing a fresh one would not.
        await self._store.fetch("DELETE FROM limit_buckets WHERE updated_at < $1", now - timedelta(hours=1))
        await self._store.fetch("DELETE FROM ended_chats WHERE until <= $1", now)
