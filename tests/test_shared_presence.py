"""Console presence on PostgreSQL holds for the helpline as a whole: two stores on one database, as two instances."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from helpline.store.postgres.presence import PgPresence
from tests.conftest import FakeClock
from tests.stored import two_instances

pytestmark = pytest.mark.postgres_only


@pytest.fixture
async def two(database_url: str, clock: FakeClock) -> AsyncIterator[tuple[PgPresence, PgPresence]]:
    async with two_instances(database_url, clock, pool_max=4) as (first, second):
        yield PgPresence(first), PgPresence(second)


async def test_a_console_open_at_one_instance_is_live_at_the_other_after_a_round(
    two: tuple[PgPresence, PgPresence], clock: FakeClock
) -> None:
    """A volunteer whose console socket is at the first instance is live at the second once both have shared."""
    first, second = two
    first.opened("u1", clock.now())
    assert second.last_live("u1", clock.now()) is None
    await first.share(clock.now())
    await second.share(clock.now())
    assert second.last_live("u1", clock.now()) == clock.now()


async def test_a_dead_instances_consoles_age_at_the_others(
    two: tuple[PgPresence, PgPresence], clock: FakeClock
) -> None:
    """Once the instance holding a console stops beating, the others see only its last beat, which ages."""
    first, second = two
    first.opened("u1", clock.now())
    beaten = clock.now()
    await first.share(beaten)
    clock.advance(seconds=60)  # the first instance died: it shares no more
    await second.share(clock.now())
    assert second.last_live("u1", clock.now()) == beaten


async def test_signing_out_drops_the_shared_beats(two: tuple[PgPresence, PgPresence], clock: FakeClock) -> None:
    """A user who signed out at one instance is not live there, nor after its next round's reading."""
    first, second = two
    first.opened("u1", clock.now())
    first.closed("u1", clock.now())
    await first.share(clock.now())
    await second.share(clock.now())
    second.signed_out("u1")
    assert second.last_live("u1", clock.now()) is None
    await second.share(clock.now())
    assert second.last_live("u1", clock.now()) is None
