"""What a storage engine can do, as flags the rest of the store, the CLI and the benchmark read.

Code that must behave differently on the two engines asks the engine what it can do, never which one it is.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Engine:
    """One storage engine's name and capabilities."""

    name: str
    # Several transactions write at once, so the repositories take row locks and claim rows (SKIP LOCKED).
    concurrent_writers: bool
    # ``helpline backup`` copies the live database itself (SQLite's online backup API); otherwise the engine's
    # own tools do (pg_dump, point-in-time recovery).
    online_backup: bool
    # Several server processes may share the database.
    shared_by_instances: bool


SQLITE = Engine("sqlite", concurrent_writers=False, online_backup=True, shared_by_instances=False)
POSTGRESQL = Engine("postgresql", concurrent_writers=True, online_backup=False, shared_by_instances=True)
