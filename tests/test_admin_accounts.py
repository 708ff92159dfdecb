"""Admins manage accounts in the console; nobody else can."""

from __future__ import annotations

from tests.conftest import Harness


async def test_admin_adds_a_user_with_a_one_time_password(harness: Harness) -> None:
    """Adding an account returns a generated password once, and it works."""
    admin = await harness.console("ada", role="admin")
    response = await admin.post("/api/admin/users", {"username": "newvol", "role": "volunteer"})
    assert response.status == 201
    password = (await response.json())["password"]
    fresh = await harness.console()
    assert (await fresh.login("newvol", password)).status == 200
    assert password not in str(harness.rows("SELECT * FROM users"))


async def test_disable_ends_sessions_and_enable_restores(harness: Harness) -> None:
    """A disabled account's open session stops working at once; enabling lets it sign in again."""
    admin = await harness.console("ada", role="admin")
    amira = await harness.console("amira")
    assert (await admin.post("/api/admin/users/amira/disable")).status == 200
    assert (await amira.get("/api/queue")).status == 401
    assert (await (await harness.console()).login("amira")).status == 401
    assert (await admin.post("/api/admin/users/amira/enable")).status == 200
    assert (await (await harness.console()).login("amira")).status == 200


async def test_non_admins_cannot_manage_accounts(harness: Harness) -> None:
    """Volunteers and supervisors get 403 on every admin endpoint."""
    for role in ("volunteer", "supervisor"):
        user = await harness.console(f"user-{role}", role=role)
        assert (await user.get("/api/admin/users")).status == 403
        assert (await user.post("/api/admin/users", {"username": "x1", "role": "admin"})).status == 403
        assert (await user.post("/api/admin/canned", {"code": "a", "title": "t", "body": "b"})).status == 403
        assert (await user.post("/api/admin/hours", {"days": {}, "closed_message": "x"})).status == 403


async def test_bad_account_requests(harness: Harness) -> None:
    """Bad names, roles, unknown users and actions are clear errors, and an admin cannot disable themself."""
    admin = await harness.console("ada", role="admin")
    assert (await admin.post("/api/admin/users", {"username": "Bad Name", "role": "volunteer"})).status == 400
    assert (await admin.post("/api/admin/users", {"username": "okname", "role": "boss"})).status == 400
    assert (await admin.post("/api/admin/users", {"username": "ada", "role": "volunteer"})).status == 409
    assert (await admin.post("/api/admin/users/nobody/disable")).status == 404
    assert (await admin.post("/api/admin/users/ada/explode")).status == 404
    assert (await admin.post("/api/admin/users/ada/disable")).status == 400
