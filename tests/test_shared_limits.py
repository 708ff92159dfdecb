"""Web chat's limits on PostgreSQL hold for the helpline as a whole: two stores on one database, as two instances."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest

from helpline.store.postgres.limits import PgLimits
from tests.conftest import FakeClock
from tests.stored import two_instances

pytestmark = pytest.mark.postgres_only
MINUTE = timedelta(minutes=1)


@pytest.fixture
async def two(database_url: str, clock: FakeClock) -> AsyncIterator[tuple[PgLimits, PgLimits]]:
    async with two_instances(database_url, clock, pool_max=8) as (first, second):
        yield PgLimits(first), PgLimits(second)


async def test_a_rate_limit_holds_across_instances_even_when_taken_at_once(
    two: tuple[PgLimits, PgLimits], clock: FakeClock
) -> None:
    """Twenty takes at once, half through each instance, of a limit of five a minute: exactly five are allowed."""
    first, second = two
    now = clock.now()
    takes = [(first if n % 2 else second).take("network_messages", b"net", 5, MINUTE, now) for n in range(20)]
    waits = await asyncio.gather(*takes)
    assert waits.count(None) == 5
    assert all(w is not None and 0 < w <= 12 for w in waits if w is not None)


async def test_a_rate_limit_refills_over_its_window(two: tuple[PgLimits, PgLimits], clock: FakeClock) -> None:
    """Once used up, one more take is allowed after a fifth of the window, on either instance."""
    first, second = two
    for _ in range(5):
        assert await first.take("network_chats", b"net", 5, MINUTE, clock.now()) is None
    assert await second.take("network_chats", b"net", 5, MINUTE, clock.now()) is not None
    clock.advance(seconds=12)
    assert await second.take("network_chats", b"net", 5, MINUTE, clock.now()) is None
    assert await first.take("network_chats", b"other", 5, MINUTE, clock.now()) is None  # another key, its own budget


async def test_an_ended_chat_is_refused_by_every_instance_until_its_token_expires(
    two: tuple[PgLimits, PgLimits], clock: FakeClock
) -> None:
    """A chat ended through one instance counts as ended at the other, until its token would have expired."""
    first, second = two
    await first.end_chat(b"chat", clock.now() + timedelta(hours=1))
    assert await second.chat_ended(b"chat", clock.now())
    assert not await second.chat_ended(b"another", clock.now())
    clock.advance(hours=2)
    assert not await second.chat_ended(b"chat", clock.now())


async def test_open_chats_count_those_of_every_instance(
    two: tuple[PgLimits, PgLimits], database_url: str, clock: FakeClock
) -> None:
    """Chats at once count the web chat conversations still open, whichever instance holds them."""
    first, _ = two
    assert await first.open_chats() == 0
    conn = await asyncpg.connect(database_url)
    try:
        for n, (status, left) in enumerate(
            [("waiting", False), ("active", False), ("active", True), ("closed", False)]
        ):
            await conn.execute(
                "INSERT INTO conversations (id, channel, status, created_at, waiting_since, contact_left_at)"
                " VALUES ($1, 'webchat', $2, $3, $3, $4)",
                f"c{n}",
                status,
                clock.now(),
                clock.now() if left else None,
            )
    finally:
        await conn.close()
    assert await first.open_chats() == 2
