"""Sign-ins sent at once, from many networks or one: each is counted before it is checked, so none slips past."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import ClientResponse

from helpline.settings import Settings
from tests.conftest import PASSWORD, Harness

GUESSES = 100


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Behind one proxy of our own: each guess below comes from a network of its own (a botnet), so the
    # per-network limit cannot stop them and only the per-name count stands between them and the account.
    # Delays start at the lock, so that exactly lock_after guesses are checked, not fewer.
    return settings.replace("auth", trusted_proxy_hops=1, throttle_after=settings.auth.lock_after)


async def guess(harness: Harness, username: str, password: str, network: int) -> ClientResponse:
    client = (await harness.console()).client
    return await client.post(
        "/api/login",
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": f"198.{network // 250}.{network % 250}.7"},
    )


async def flood(harness: Harness, username: str, passwords: list[str]) -> list[int]:
    responses = await asyncio.gather(*(guess(harness, username, p, n) for n, p in enumerate(passwords)))
    return [r.status for r in responses]


async def test_a_hundred_wrong_guesses_at_once_are_checked_only_lock_after_times(harness: Harness) -> None:
    """Exactly lock_after guesses are checked (401); the rest are refused unchecked (423); one lock, one audit."""
    await harness.helpline.accounts.add_user("sam", "supervisor", PASSWORD)
    lock_after = harness.settings.auth.lock_after
    statuses = await flood(harness, "sam", [f"guess {n}" for n in range(GUESSES)])
    assert statuses.count(401) == lock_after
    assert statuses.count(423) == GUESSES - lock_after
    assert harness.rows("SELECT COUNT(*) FROM audit WHERE action = 'auth.sign_in_failed'") == [(lock_after,)]
    assert harness.rows("SELECT COUNT(*) FROM audit WHERE action = 'auth.account_locked'") == [(1,)]


async def test_the_right_password_in_a_batch_does_not_lift_the_lock(harness: Harness) -> None:
    """Once locked, a batch holding the right password among wrong ones is refused whole, and the lock stays."""
    await harness.helpline.accounts.add_user("sam", "supervisor", PASSWORD)
    await flood(harness, "sam", [f"guess {n}" for n in range(GUESSES)])
    batch = [f"again {n}" for n in range(20)]
    batch[7] = PASSWORD
    assert set(await flood(harness, "sam", batch)) == {423}
    assert (await guess(harness, "sam", PASSWORD, 999)).status == 423
    assert harness.rows("SELECT COUNT(*) FROM audit WHERE action = 'auth.signed_in'") == [(0,)]


async def test_the_lock_ends_by_itself(harness: Harness) -> None:
    """A flood locks the name for lock_minutes, not for the whole shift."""
    await harness.helpline.accounts.add_user("sam", "supervisor", PASSWORD)
    await flood(harness, "sam", [f"guess {n}" for n in range(GUESSES)])
    harness.clock.advance(minutes=harness.settings.auth.lock_minutes)
    assert (await guess(harness, "sam", PASSWORD, 1)).status == 200


async def test_one_network_is_refused_after_its_failures_and_cannot_lock_anyone(harness: Harness) -> None:
    """network_failures wrong guesses from one network stop it (429) for the window, short of any lock."""
    await harness.helpline.accounts.add_user("sam", "supervisor", PASSWORD)
    await harness.helpline.accounts.add_user("kim", "volunteer", PASSWORD)
    auth = harness.settings.auth
    assert 2 * auth.network_failures < auth.lock_after
    same_network = 42
    results = [(await guess(harness, "sam", "wrong", same_network)).status for _ in range(auth.network_failures)]
    assert results == [401] * auth.network_failures
    refused = await guess(harness, "kim", PASSWORD, same_network)
    assert refused.status == 429
    body: dict[str, Any] = await refused.json()
    assert "network" in body["error"] and body["retry_after"] == auth.network_window_minutes * 60
    assert (await guess(harness, "kim", PASSWORD, 43)).status == 200  # another network is not held back
    harness.clock.advance(minutes=auth.network_window_minutes)
    assert (await guess(harness, "sam", PASSWORD, same_network)).status == 200


async def test_a_right_password_takes_its_attempt_back_from_the_network(harness: Harness) -> None:
    """An office whose staff sign in all day is not shut out: only failures use up the network's budget."""
    await harness.helpline.accounts.add_user("kim", "volunteer", PASSWORD)
    for _ in range(harness.settings.auth.network_failures * 3):
        assert (await guess(harness, "kim", PASSWORD, 5)).status == 200


async def test_counters_hold_no_username_or_address(harness: Harness) -> None:
    """The counters are keyed by keyed HMACs: neither the name tried nor the network is in the database."""
    await guess(harness, "someone-secret", "wrong", 77)
    rows = harness.rows("SELECT * FROM signin_limits")
    assert len(rows) == 2
    text = repr(rows)
    assert "someone-secret" not in text and "198.0.77" not in text
    assert b"someone-secret" not in b"".join(bytes(row[0]) for row in rows)
