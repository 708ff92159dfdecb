"""Passwords: an admin resets one (shown once), the command line resets one, and users change their own."""

from __future__ import annotations

import asyncio
import io

import pytest

from helpline import cli
from tests.conftest import PASSWORD, Harness
from tests.test_totp import rfc6238

NEW = "a brand new long passphrase"


async def test_an_admin_resets_a_password_shown_once_and_ends_its_sessions(harness: Harness) -> None:
    """The admin gets a new password once; the old one and the user's sessions stop working; it is audited."""
    ada = await harness.console("ada", role="admin")
    amira = await harness.console("amira")
    reset = await ada.post("/api/admin/users/amira/reset-password")
    assert reset.status == 200
    password = (await reset.json())["password"]
    assert len(password) >= harness.settings.auth.min_password_chars
    assert (await amira.get("/api/session")).status == 401
    again = await harness.console()
    assert (await again.login("amira")).status == 401
    assert (await again.login("amira", password)).status == 200
    assert password.encode() not in harness.db.stored_bytes()
    rows = harness.rows("SELECT action FROM audit WHERE action = 'user.password_reset'")
    assert rows == [("user.password_reset",)]
    assert (await amira.post("/api/admin/users/ada/reset-password")).status in (401, 403)


async def test_a_volunteer_cannot_reset_a_password(harness: Harness) -> None:
    """Only admins reset passwords."""
    await harness.console("ben")
    amira = await harness.console("amira")
    assert (await amira.post("/api/admin/users/ben/reset-password")).status == 403


async def test_the_command_line_resets_a_password(
    harness: Harness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`helpline user reset-password NAME` prints a new password once; --password-stdin sets the given one."""
    await harness.console("amira")
    config = str(harness.data_dir / "helpline.toml")
    monkeypatch.setenv("HELPLINE_AUTH__PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("HELPLINE_AUTH__PASSWORD_MEMORY_KIB", "1024")
    assert await asyncio.to_thread(cli.main, ["user", "reset-password", "amira", "--config", config]) == 0
    printed = capsys.readouterr().out
    password = printed.split("New password for 'amira': ")[1].split()[0]
    client = await harness.console()
    assert (await client.login("amira", password)).status == 200
    monkeypatch.setattr("sys.stdin", io.StringIO(NEW + "\n"))
    assert (
        await asyncio.to_thread(cli.main, ["user", "reset-password", "amira", "--password-stdin", "--config", config])
        == 0
    )
    assert NEW not in capsys.readouterr().out
    assert (await (await harness.console()).login("amira", NEW)).status == 200
    assert await asyncio.to_thread(cli.main, ["user", "reset-password", "nobody", "--config", config]) == 2


async def test_a_user_changes_their_own_password_with_the_current_one(harness: Harness) -> None:
    """The current password is needed; the user's other sessions end, this one stays."""
    amira = await harness.console("amira")
    other = await harness.console()
    assert (await other.login("amira")).status == 200
    wrong = await amira.post("/api/me/password", {"current": "not it at all", "new": NEW})
    assert wrong.status == 403
    short = await amira.post("/api/me/password", {"current": PASSWORD, "new": "short"})
    assert short.status == 400
    assert (await amira.post("/api/me/password", {"current": PASSWORD, "new": NEW})).status == 200
    assert (await amira.get("/api/session")).status == 200
    assert (await other.get("/api/session")).status == 401
    assert (await (await harness.console()).login("amira", NEW)).status == 200


async def test_with_two_factor_on_changing_a_password_needs_a_code(harness: Harness) -> None:
    """A session left open is not enough: with two-factor sign-in on, a fresh code from the app is needed too."""
    amira = await harness.console("amira")
    secret = (await (await amira.post("/api/totp/enrol")).json())["secret"]
    code = rfc6238(secret, harness.clock.now())
    assert (await amira.post("/api/totp/confirm", {"code": code})).status == 200
    harness.clock.advance(seconds=30)
    refused = await amira.post("/api/me/password", {"current": PASSWORD, "new": NEW})
    assert refused.status == 403
    assert (await refused.json())["totp_required"] is True
    fresh = rfc6238(secret, harness.clock.now())
    assert (await amira.post("/api/me/password", {"current": PASSWORD, "new": NEW, "totp": fresh})).status == 200
