"""Admins manage accounts in the console; nobody else can; roles are held explicitly and shown."""

from __future__ import annotations

from tests.conftest import Harness


async def test_admin_adds_a_user_with_a_one_time_password(harness: Harness) -> None:
    """Adding an account returns a generated password once, and it works."""
    admin = await harness.console("ada", role="admin")
    response = await admin.post("/api/admin/users", {"username": "newvol", "roles": ["volunteer"]})
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
        assert (await user.post("/api/admin/users", {"username": "x1", "roles": ["admin"]})).status == 403
        assert (await user.post("/api/admin/canned", {"code": "a", "title": "t", "body": "b"})).status == 403
        assert (await user.post("/api/admin/hours", {"days": {}, "closed_message": "x"})).status == 403


async def test_bad_account_requests(harness: Harness) -> None:
    """Bad names, roles, unknown users and actions are clear errors, and an admin cannot disable themself."""
    admin = await harness.console("ada", role="admin")
    assert (await admin.post("/api/admin/users", {"username": "Bad Name", "roles": ["volunteer"]})).status == 400
    assert (await admin.post("/api/admin/users", {"username": "okname", "roles": ["boss"]})).status == 400
    assert (await admin.post("/api/admin/users", {"username": "okname", "roles": []})).status == 400
    assert (await admin.post("/api/admin/users", {"username": "okname", "role": "volunteer"})).status == 400
    assert (await admin.post("/api/admin/users", {"username": "ada", "roles": ["volunteer"]})).status == 409
    assert (await admin.post("/api/admin/users/nobody/disable")).status == 404
    assert (await admin.post("/api/admin/users/ada/explode")).status == 404
    assert (await admin.post("/api/admin/users/ada/disable")).status == 400


async def test_an_account_holds_both_roles_only_explicitly_and_the_console_shows_them(harness: Harness) -> None:
    """An admin adds an admin-and-supervisor account; the list and the session show both roles, and who made it."""
    admin = await harness.console("ada", role="admin")
    response = await admin.post("/api/admin/users", {"username": "both", "roles": ["supervisor", "admin"]})
    assert response.status == 201
    users = {u["username"]: u for u in (await (await admin.get("/api/admin/users")).json())["users"]}
    assert users["ada"]["roles"] == ["admin"]
    assert users["both"]["roles"] == ["supervisor", "admin"]
    session = (await (await admin.get("/api/session")).json())["user"]
    assert session["roles"] == ["admin"]
    [(created_by,)] = harness.rows("SELECT created_by FROM users WHERE username = 'both'")
    [(ada_id,)] = harness.rows("SELECT id FROM users WHERE username = 'ada'")
    assert created_by == ada_id
    [(detail,)] = harness.rows("SELECT detail FROM audit WHERE action = 'user.added' AND actor = ?", (ada_id,))
    assert '"roles": "supervisor admin"' in detail
