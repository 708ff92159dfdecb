"""After the run: every stored message opened through the real core code, found by the tag in its body."""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field

from helpline.app import build
from helpline.bench.server import Instance
from helpline.bench.texters import tag_of
from helpline.core.models import User

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


async def read_back(instance: Instance) -> Stored:
    """Open every conversation (the server must be stopped) and index its tagged inbound messages."""
    settings = instance.settings()
    with sqlite3.connect(settings.storage.database) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM conversations ORDER BY created_at")]
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
