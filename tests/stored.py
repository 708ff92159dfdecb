"""The store tests' material: two stores on one database as two instances hold them, and what the tests put in a
store (a conversation, a user, a message), written as the core writes them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

from helpline.clock import Clock
from helpline.core.ids import new_id
from helpline.core.models import Conversation, KeyRef, StoredMessage, User
from helpline.store.postgres.database import PostgresStore
from helpline.store.sqlite.database import SqliteStore

Store = SqliteStore | PostgresStore


@asynccontextmanager
async def two_instances(
    database_url: str, clock: Clock, *, pool_max: int
) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    """Two stores open on one PostgreSQL database, as two server processes hold it; closed afterwards."""
    first = await PostgresStore(database_url, clock, pool_min=1, pool_max=pool_max).open()
    second = await PostgresStore(database_url, clock, pool_min=1, pool_max=pool_max).open()
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


def conversation(clock: Clock, status: Literal["waiting", "active", "closed"] = "waiting") -> Conversation:
    """A new SMS conversation, not yet written; its wrapped key holds bytes that must round-trip exactly."""
    conversation_id = new_id()
    return Conversation(
        id=conversation_id,
        channel="sms",
        status=status,
        assignee_id=None,
        assignee_name=None,
        priority=0,
        created_at=clock.now(),
        waiting_since=clock.now(),
        closed_at=None,
        outcome=None,
        key=KeyRef("conversations", conversation_id, b"\x00wrapped\xff", 1),
        last_seq=0,
    )


async def user(store: Store, clock: Clock, name: str, role: Literal["volunteer", "supervisor"] = "volunteer") -> User:
    """A new account, written."""
    made = User(new_id(), name, frozenset({role}), False, "argon2-hash", created_at=clock.now())
    assert await store.write(lambda tx: tx.users.insert(made, clock.now()))
    return made


async def opened(
    store: Store, clock: Clock, status: Literal["waiting", "active", "closed"] = "waiting"
) -> Conversation:
    """A new conversation, written."""
    made = conversation(clock, status)
    await store.write(lambda tx: tx.conversations.insert(made))
    return made


def message(conversation_id: str, seq: int, clock: Clock, direction: Literal["in", "out"] = "in") -> StoredMessage:
    """Message ``seq`` of a conversation, not yet written."""
    return StoredMessage(
        new_id(), conversation_id, seq, direction, None, None, b"sealed\x00body", clock.now(), None, None
    )
