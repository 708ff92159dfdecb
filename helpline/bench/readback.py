"""After the run: every stored message opened through the real core code, found by the tag in its body."""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field

import asyncpg

from helpline.app import build
from helpline.bench.server import Instance
from helpline.bench.texters import tag_of
from helpline.core.models import User
from helpline.settings import Settings

READER = User(
    id="bench-reader", username="bench-reader", roles=frozenset({"supervisor"}), disabled=False, password_hash=""
)


@dataclass
class Stored:
    """What the database holds: each tagged inbound message's ids, and how often each tag was stored."""

    inbound: dict[tuple[str, int], str] = field(default_factory=dict)
    counts: Counter[tuple[str, int]] = field(default_factory=Counter)
    conversations: int = 0
    outbound_messages: int = 0

    def missing(self, phase: str, sent: int) -> int:
        return sum(1 for index in range(sent) if (phase, index) not in self.counts)

    def duplicated(self, phase: str) -> int:
        return sum(count - 1 for (p, _), count in self.counts.items() if p == phase and count > 1)


async def conversation_ids(settings: Settings) -> list[str]:
    """Every conversation's id, oldest first, read from the database itself (on either engine)."""
    query = "SELECT id FROM conversations ORDER BY created_at"
    if settings.storage.database_url:
        conn = await asyncpg.connect(settings.storage.database_url, password=settings.storage.database_password or None)
        try:
            return [row[0] for row in await conn.fetch(query)]
        finally:
            await conn.close()
    with sqlite3.connect(settings.storage.database) as conn:
        return [row[0] for row in conn.execute(query)]


async def postgres_version(url: str) -> str:
    """The PostgreSQL server's version, for the report."""
    conn = await asyncpg.connect(url)
    try:
        return f"PostgreSQL {await conn.fetchval('SHOW server_version')}"
    finally:
        await conn.close()


async def read_back(instance: Instance) -> Stored:
    """Open every conversation (the server must be stopped) and index its tagged inbound messages."""
    settings = instance.settings()
    ids = await conversation_ids(settings)
    helpline = build(settings)
    await helpline.store.open()
    stored = Stored(conversations=len(ids))
    try:
        for conversation_id in ids:
            view = await helpline.conversations.view(READER, conversation_id)
            for message in view.messages:
                if message.direction != "in":
                    stored.outbound_messages += 1
                    continue
                tag = tag_of(message.body)
                if tag is not None:
                    stored.counts[tag] += 1
                    stored.inbound.setdefault(tag, message.id)
    finally:
        await helpline.store.close()
    return stored
