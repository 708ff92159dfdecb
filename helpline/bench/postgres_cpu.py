"""CPU time the PostgreSQL server spends on a phase of the run, read from ``/proc`` (the server must be local).

PostgreSQL runs a process per connection (a *backend*) and a few background processes (WAL writer,
checkpointer, background writer, autovacuum, …), all children of the *postmaster*. Two figures are taken:

- **ours**: the processes working in the benchmark's database (``pg_stat_activity.datname``: its client
  backends, the monitoring connection itself left out, and any autovacuum or parallel worker in it) plus the
  background processes of no database (WAL writer, checkpointer, …). Those serve the whole server, so when
  other databases on it are busy they carry some of their work too; ``other_backends`` says how many client
  backends of other databases were connected.
- **whole server**: the postmaster and every child, including those that ended during the phase (the
  kernel adds a reaped child's time to its parent's ``cutime``/``cstime``): everything the server did,
  whoever asked.

A backend of ours that ends during the phase is counted in the whole-server figure only.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

CLIENT = "client backend"


def _stat(pid: int) -> list[str]:
    # The fields after the command name, which may itself hold spaces and parentheses.
    return Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()


def _ticks(fields: list[str], *, reaped: bool = False) -> int:
    # utime, stime (fields 14 and 15 of proc(5)), and cutime, cstime (16 and 17); the list starts at field 3.
    own = int(fields[11]) + int(fields[12])
    return own + (int(fields[13]) + int(fields[14]) if reaped else 0)


def _command(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()


@dataclass
class Sample:
    """Clock ticks by process at one moment."""

    ours: dict[int, int] = field(default_factory=dict)
    whole: int = 0
    other_backends: int = 0


@dataclass(frozen=True)
class Used:
    """CPU seconds used between two samples."""

    ours: float
    whole: float
    other_backends: int


class PostgresCpu:
    """Samples the local PostgreSQL server's processes through one monitoring connection."""

    def __init__(self, conn: asyncpg.Connection, own_pid: int, postmaster: int, database: str) -> None:
        self._conn = conn
        self._own = own_pid
        self._postmaster = postmaster
        self._database = database
        self._tick = os.sysconf("SC_CLK_TCK")

    @classmethod
    async def find(cls, url: str) -> PostgresCpu | None:
        """The monitor for the server behind ``url``; None when its processes are not on this machine."""
        conn = await asyncpg.connect(url)
        own = int(await conn.fetchval("SELECT pg_backend_pid()"))
        database = str(await conn.fetchval("SELECT current_database()"))
        try:
            postmaster = int(_stat(own)[1])
            if _command(postmaster) not in ("postgres", "postmaster"):
                raise LookupError("not a PostgreSQL server")
        except (OSError, ValueError, IndexError, LookupError):
            await conn.close()
            return None
        return cls(conn, own, postmaster, database)

    async def sample(self) -> Sample:
        rows = await self._conn.fetch("SELECT pid, backend_type, datname FROM pg_stat_activity")
        sample = Sample()
        with contextlib.suppress(OSError):
            sample.whole = _ticks(_stat(self._postmaster), reaped=True)
        for pid, kind, database in rows:
            try:
                ticks = _ticks(_stat(pid))
            except OSError:
                continue  # ended since the query
            sample.whole += ticks
            if pid == self._own:
                continue
            if database == self._database or (database is None and kind != CLIENT):
                sample.ours[pid] = ticks
            elif kind == CLIENT:
                sample.other_backends += 1
        return sample

    def used(self, before: Sample, after: Sample) -> Used:
        """What was used from ``before`` to ``after`` (a process that started meanwhile, from its start)."""
        ours = sum(ticks - before.ours.get(pid, 0) for pid, ticks in after.ours.items())
        return Used(
            ours=ours / self._tick,
            whole=(after.whole - before.whole) / self._tick,
            other_backends=max(before.other_backends, after.other_backends),
        )

    async def close(self) -> None:
        await self._conn.close()
