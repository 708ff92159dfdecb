"""Password guessing is slowed with growing delays, then stopped by a lock-out that ends by itself."""

from __future__ import annotations

import pytest

from helpline.settings import Settings
from tests.conftest import PASSWORD, Console, Harness


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # One network (loopback) makes every attempt here: its own limit is tested at the end, with the default.
    return settings.replace("auth", network_failures=1000)


async def fail_until_locked(harness: Harness, console: Console, username: str) -> None:
    """Wrong passwords, each after the delay the last one asked for, until the name is locked."""
    for _ in range(harness.settings.auth.lock_after):
        response = await console.login(username, "wrong password")
        if response.status == 429:
            harness.clock.advance(seconds=(await response.json())["retry_after"])
            response = await console.login(username, "wrong password")
        assert response.status == 401


async def test_delays_grow_after_repeated_failures(harness: Harness) -> None:
    """After throttle_after failures each try must wait, and the wait doubles; the right password waits too."""
    await harness.helpline.accounts.add_user("amira", "volunteer", PASSWORD)
    console = await harness.console()
    policy = harness.settings.auth
    for _ in range(policy.throttle_after):
        assert (await console.login("amira", "wrong password")).status == 401
    throttled = await console.login("amira")
    assert throttled.status == 429
    first_wait = (await throttled.json())["retry_after"]
    assert first_wait == policy.throttle_base_seconds
    assert throttled.headers["Retry-After"] == str(first_wait)
    harness.clock.advance(seconds=first_wait)
    assert (await console.login("amira", "wrong again")).status == 401
    second = await console.login("amira")
    assert second.status == 429
    assert (await second.json())["retry_after"] == first_wait * 2
    harness.clock.advance(seconds=first_wait * 2)
    assert (await console.login("amira")).status == 200


async def test_lock_out_holds_against_the_right_password_then_ends_by_itself(harness: Harness) -> None:
    """lock_after failures lock the name even for the right password, for lock_minutes, audited once."""
    await harness.helpline.accounts.add_user("amira", "volunteer", PASSWORD)
    console = await harness.console()
    await fail_until_locked(harness, console, "amira")
    locked = await console.login("amira")
    assert locked.status == 423
    assert "admin" in (await locked.json())["error"]
    harness.clock.advance(minutes=harness.settings.auth.lock_minutes - 1)
    assert (await console.login("amira")).status == 423
    harness.clock.advance(minutes=1)
    assert (await console.login("amira")).status == 200
    assert harness.rows("SELECT COUNT(*) FROM audit WHERE action = 'auth.account_locked'") == [(1,)]


async def test_admin_sees_and_lifts_a_lock(harness: Harness) -> None:
    """The admin page shows the lock and Unlock lifts it at once."""
    await harness.helpline.accounts.add_user("amira", "volunteer", PASSWORD)
    console = await harness.console()
    admin = await harness.console("ada", role="admin")
    await fail_until_locked(harness, console, "amira")
    users = {u["username"]: u for u in (await (await admin.get("/api/admin/users")).json())["users"]}
    assert users["amira"]["locked"] is True and users["ada"]["locked"] is False
    assert (await admin.post("/api/admin/users/amira/unlock")).status == 200
    assert (await console.login("amira")).status == 200


async def test_a_lock_does_not_end_a_session_already_open(harness: Harness) -> None:
    """Guessing someone's password locks new sign-ins, not the shift of the person already signed in."""
    amira = await harness.console("amira")
    await fail_until_locked(harness, await harness.console(), "amira")
    assert (await amira.get("/api/queue")).status == 200


async def test_success_resets_the_count(harness: Harness) -> None:
    """A successful sign-in forgets earlier failures."""
    await harness.helpline.accounts.add_user("amira", "volunteer", PASSWORD)
    console = await harness.console()
    for _ in range(harness.settings.auth.throttle_after - 1):
        await console.login("amira", "wrong")
    assert (await console.login("amira")).status == 200
    assert (await console.login("amira", "wrong")).status == 401
    assert (await console.login("amira")).status == 200


async def test_failures_are_forgotten_after_the_window(harness: Harness) -> None:
    """Failures further apart than lock_minutes never add up to a lock."""
    await harness.helpline.accounts.add_user("amira", "volunteer", PASSWORD)
    console = await harness.console()
    for _ in range(harness.settings.auth.lock_after * 2):
        harness.clock.advance(minutes=harness.settings.auth.lock_minutes)
        assert (await console.login("amira", "wrong password")).status == 401
    assert (await console.login("amira")).status == 200
