"""What the benchmark database's connections are doing, sampled from ``pg_stat_activity`` while a phase runs.

Every ``INTERVAL`` seconds, each client backend of the database (the sampling connection left out) is counted
under what it is doing: ``CPU`` (active, waiting for nothing), a wait event (``Lock:transactionid``,
``IO:WALSync``, ``LWLock:WALWrite``, …), or ``idle in transaction`` (a transaction open while the server
does something else, such as its Python between statements). Idle connections are not counted. The shares
say where the database's side of a message's time goes: many samples on one lock mean transactions queue
behind each other; many on ``IO:WALSync`` mean each commit waits for its flush.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import asyncpg

INTERVAL = 0.05
QUERY = """
SELECT state, wait_event_type, wait_event FROM pg_stat_activity
WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
  AND state <> 'idle'
"""


class PostgresWaits:
    """Samples the wait events of one database's connections until stopped."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._counts: Counter[str] = Counter()
        self._samples = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        conn = await asyncpg.connect(self._url)
        self._task = asyncio.create_task(self._sample(conn))

    async def _sample(self, conn: asyncpg.Connection) -> None:
        try:
            while True:
                for state, kind, event in await conn.fetch(QUERY):
                    if kind:
                        self._counts[f"{kind}:{event}"] += 1
                    else:
                        self._counts["CPU" if state == "active" else str(state)] += 1
                self._samples += 1
                await asyncio.sleep(INTERVAL)
        finally:
            await conn.close()

    async def stop(self) -> dict[str, object]:
        """The figures: mean busy connections per sample, and each activity's share of the busy samples."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        busy = sum(self._counts.values())
        return {
            "samples": self._samples,
            "busy_connections_mean": round(busy / self._samples, 2) if self._samples else None,
            "share": {name: round(count / busy, 3) for name, count in self._counts.most_common(10)} if busy else {},
        }
