"""Password guessing is slowed with growing delays, then stopped by a lock-out an admin can lift."""

from __future__ import annotations

from tests.conftest import PASSWORD, Harness


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


async def test_lock_out_and_admin_unlock(harness: Harness) -> None:
    """lock_after failures lock the account even for the right password, until an admin unlocks it."""
    await harness.helpline.accounts.add_user("amira", "volunteer", PASSWORD)
    console = await harness.console()
    for _ in range(harness.settings.auth.lock_after):
        harness.clock.advance(hours=1)
        assert (await console.login("amira", "wrong password")).status == 401
    harness.clock.advance(hours=1)
    locked = await console.login("amira")
    assert locked.status == 423
    assert "admin" in (await locked.json())["error"]
    admin = await harness.console("ada", role="admin")
    users = {u["username"]: u for u in (await (await admin.get("/api/admin/users")).json())["users"]}
    assert users["amira"]["locked"] is True
    assert (await admin.post("/api/admin/users/amira/unlock")).status == 200
    assert (await console.login("amira")).status == 200
    assert harness.rows("SELECT COUNT(*) FROM audit WHERE action = 'auth.account_locked'") == [(1,)]


async def test_success_resets_the_count(harness: Harness) -> None:
    """A successful sign-in forgets earlier failures."""
    await harness.helpline.accounts.add_user("amira", "volunteer", PASSWORD)
    console = await harness.console()
    for _ in range(harness.settings.auth.throttle_after - 1):
        await console.login("amira", "wrong")
    assert (await console.login("amira")).status == 200
    assert (await console.login("amira", "wrong")).status == 401
    assert (await console.login("amira")).status == 200
