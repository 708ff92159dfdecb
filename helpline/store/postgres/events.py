"""The ``events`` table: what each change published, as rows every instance reads (``store/postgres/notifier.py``).

A row holds an event's kind, its conversation id and its other fields as JSON — ids, sequence numbers, states,
flags and staff usernames (who closed or moved a conversation), never text or addresses (events carry nothing
else). It is written in the change's own transaction,
with the id of that transaction (``xid8``): a reader takes only rows whose transactions have all ended, in
(transaction id, row id) order, so a row committed after one with a higher id is never skipped.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from helpline.core import events as kinds
from helpline.core.events import Event
from helpline.store.postgres.connection import PgConnection


def _event_classes() -> dict[str, type[Event]]:
    found: dict[str, type[Event]] = {}
    for value in vars(kinds).values():
        if isinstance(value, type) and issubclass(value, Event) and value is not Event:
            found[value.name] = value
    return found


EVENT_CLASSES = _event_classes()


def encode(event: Event) -> tuple[str, str, str]:
    """An event as a row's (kind, conversation id, fields)."""
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event) if f.name != "conversation_id"}
    return event.name, event.conversation_id, json.dumps(fields, separators=(",", ":"))


def decode(kind: str, conversation_id: str, body: str) -> Event | None:
    """The event a row holds; None for a kind this version does not know (a newer instance wrote it)."""
    cls = EVENT_CLASSES.get(kind)
    if cls is None:
        return None
    fields: dict[str, Any] = json.loads(body)
    try:
        return cls(conversation_id, **fields)
    except TypeError:
        return None


@dataclass(frozen=True, order=True)
class Position:
    """Where a reader is in the table: the last row taken, by (transaction id, row id)."""

    xid: int
    id: int

    def token(self) -> str:
        return f"{self.xid}.{self.id}"

    @classmethod
    def parse(cls, token: str) -> Position | None:
        xid, _, row = token.partition(".")
        if not (xid.isdigit() and row.isdigit()):
            return None
        return cls(int(xid), int(row))


class PgEvents:
    """Implements ``core.ports.EventLog``: one multi-row insert per unit of work."""

    def __init__(self, conn: PgConnection) -> None:
        self._conn = conn

    async def record(self, events: Sequence[Event]) -> None:
        rows = [encode(event) for event in events]
        await self._conn.execute(
            "INSERT INTO events (kind, conversation_id, body) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])",
            ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]),
        )


_BETWEEN = (
    "SELECT xid::text AS xid, id, kind, conversation_id, body FROM events"
    " WHERE (xid, id) > ($1::text::xid8, $2::bigint) AND (xid, id) <= ($3::text::xid8, $4::bigint)"
    " ORDER BY xid, id LIMIT $5"
)
_FIRST = "SELECT xid::text AS xid, id FROM events ORDER BY xid, id LIMIT 1"


class PgEventHistory:
    """Implements ``core.ports.EventHistory`` from the ``events`` table (trimmed to a day by the notifier)."""

    def __init__(self, fetch: Callable[..., Awaitable[list[asyncpg.Record]]]) -> None:
        self._fetch = fetch

    async def between(self, after: str, upto: str, limit: int) -> list[tuple[str, Event]] | None:
        start, end = Position.parse(after), Position.parse(upto)
        if start is None or end is None:
            return None
        if end <= start:
            return []
        first = await self._fetch(_FIRST)
        # Rows are trimmed oldest first: if the oldest kept is after ``after``, what followed it may be gone.
        if not first or Position(int(first[0]["xid"]), int(first[0]["id"])) > start:
            return None
        rows = await self._fetch(_BETWEEN, str(start.xid), start.id, str(end.xid), end.id, limit + 1)
        if len(rows) > limit:
            return None  # reloading is quicker than replaying that much
        found: list[tuple[str, Event]] = []
        for row in rows:
            event = decode(row["kind"], row["conversation_id"], row["body"])
            if event is not None:
                found.append((Position(int(row["xid"]), int(row["id"])).token(), event))
        return found
