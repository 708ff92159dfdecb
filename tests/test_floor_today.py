"""The floor's figures for today: answered, waiting, longest wait and left before an answer."""

from __future__ import annotations

from typing import Any

import pytest

from helpline.core.models import Inbound
from helpline.settings import Settings
from tests.conftest import FakeClock, Harness
from tests.report_scenario import START, play, settings_for


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings_for(settings)


async def _today(harness: Harness) -> dict[str, Any]:
    console = await harness.console()
    assert (await console.login("sup")).status == 200
    response = await console.get("/api/floor/today")
    assert response.status == 200
    data: dict[str, Any] = await response.json()
    return data


async def test_today_counts_only_today(harness: Harness) -> None:
    """On Wednesday morning the floor counts Wednesday's contacts, and the queue as it stands."""
    await play(harness.helpline, harness.clock)  # ends on Wednesday at 09:00, with F and G still waiting
    helpline = harness.helpline
    vol1 = await helpline.store.read(lambda tx: tx.users.by_name("vol1"))
    assert vol1 is not None
    assert await _today(harness) == {
        "answered": 0,
        "waiting": 2,
        "longest_wait_seconds": 21 * 3600,  # F has waited since Tuesday 12:00
        "left_before_answer": 0,
        "waiting_longest_seconds": 21 * 3600,
    }
    h = await helpline.conversations.receive(Inbound("sms", "+447700900108", "H-1", "Hi"))
    assert h.conversation_id is not None
    harness.clock.advance(minutes=4)
    await helpline.routing.claim(vol1, h.conversation_id)
    await helpline.conversations.reply(vol1, h.conversation_id, "Hello")
    await helpline.conversations.receive(Inbound("webchat", "chat-token-i", "I-1", "Hi"))
    harness.clock.advance(minutes=2)
    await helpline.conversations.contact_left("webchat", "chat-token-i", "ended")
    assert await _today(harness) == {
        "answered": 1,
        "waiting": 2,  # F and G; I's contact left, so it is apart ("left before an answer"), not waiting
        "longest_wait_seconds": 21 * 3600 + 6 * 60,
        "left_before_answer": 1,
        "waiting_longest_seconds": 21 * 3600 + 6 * 60,
    }


async def test_volunteers_cannot_see_todays_figures(harness: Harness) -> None:
    """A volunteer asking for the floor's figures gets 403."""
    console = await harness.console("vol9", role="volunteer")
    assert (await console.get("/api/floor/today")).status == 403
