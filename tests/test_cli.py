"""The ``helpline`` command: init, user add, simulate."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import stat
from pathlib import Path

import pytest

from helpline import cli
from helpline.settings import load
from tests.conftest import Harness
from tests.direct_db import DirectDb


def test_init_creates_database_key_and_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """init makes the database with every migration, a 0600 key file, and a config pointing at both."""
    data = tmp_path / "var"
    assert cli.main(["init", "--data-dir", str(data)]) == 0
    assert stat.S_IMODE((data / "master.key").stat().st_mode) == 0o600
    assert (data / "helpline.toml").exists()
    with sqlite3.connect(data / "helpline.db") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"conversations", "messages", "vault", "outbox", "audit", "schema_migrations"} <= tables
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert "master key" in capsys.readouterr().out


def test_init_refuses_to_overwrite_a_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A second init into the same directory leaves the existing key untouched."""
    data = tmp_path / "var"
    assert cli.main(["init", "--data-dir", str(data)]) == 0
    key = (data / "master.key").read_bytes()
    assert cli.main(["init", "--data-dir", str(data)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert (data / "master.key").read_bytes() == key


def test_user_add_prints_a_generated_password(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --password-stdin, a strong password is generated and printed once."""
    config = str(data_dir / "helpline.toml")
    assert cli.main(["user", "add", "amira", "--role", "volunteer", "--config", config]) == 0
    out = capsys.readouterr().out
    password = out.split("password: ")[1].split()[0]
    assert len(password) >= 20
    [stored] = DirectDb.of(load(data_dir / "helpline.toml", environ={})).rows(
        "SELECT roles, password_hash FROM users WHERE username = 'amira'"
    )
    assert stored[0] == "volunteer" and stored[1].startswith("$argon2id$") and password not in stored[1]


def test_user_add_and_roles_with_several_roles(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--role repeats for an account that holds several roles; `user roles` replaces them, audited."""
    config = str(data_dir / "helpline.toml")
    assert cli.main(["user", "add", "ada", "--role", "admin", "--role", "supervisor", "--config", config]) == 0
    assert "Created admin + supervisor 'ada'" in capsys.readouterr().out
    assert cli.main(["user", "roles", "ada", "--role", "admin", "--config", config]) == 0
    assert "now holds: admin." in capsys.readouterr().out
    db = DirectDb.of(load(data_dir / "helpline.toml", environ={}))
    assert db.rows("SELECT roles, created_by FROM users WHERE username = 'ada'") == [("admin", None)]
    actions = [row[0] for row in db.rows("SELECT action FROM audit ORDER BY seq")]
    assert actions == ["user.added", "user.roles_changed"]
    assert cli.main(["user", "roles", "nobody", "--role", "admin", "--config", config]) == 2


def test_user_add_from_stdin_and_refusals(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--password-stdin reads the password; a short password or a taken name is refused clearly."""
    config = str(data_dir / "helpline.toml")
    monkeypatch.setattr("sys.stdin", io.StringIO("a sufficiently long password\n"))
    assert cli.main(["user", "add", "sam", "--role", "supervisor", "--password-stdin", "--config", config]) == 0
    assert "password:" not in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["user", "add", "kim", "--role", "admin", "--password-stdin", "--config", config]) == 2
    assert "at least" in capsys.readouterr().err
    assert cli.main(["user", "add", "sam", "--role", "volunteer", "--config", config]) == 2
    assert "taken" in capsys.readouterr().err


def test_bad_config_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing config file is reported, not a traceback."""
    assert cli.main(["user", "add", "x1", "--role", "volunteer", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "config file not found" in capsys.readouterr().err


async def test_simulate_sms_reaches_the_server(
    harness: Harness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """simulate sms posts a correctly signed webhook that the running server accepts."""
    monkeypatch.setenv("HELPLINE_SERVER__PORT", str(harness.settings.server.port))
    monkeypatch.setenv("HELPLINE_SMS__AUTH_TOKEN", harness.settings.sms.auth_token)
    monkeypatch.setenv("HELPLINE_SMS__PUBLIC_BASE_URL", harness.settings.sms.public_base_url)
    config = str(harness.data_dir / "helpline.toml")
    await harness.route_intake()  # as the running server's worker does at start: from then on, routed at once
    args = ["simulate", "sms", "--config", config, "--from", "+447700900123", "--body", "hi"]
    assert await asyncio.to_thread(cli.main, args) == 0
    out = capsys.readouterr().out
    assert "HTTP 200" in out
    # What the texter would get back is printed: the greeting (or the closed message out of hours).
    assert "The texter would get back at once:" in out
    assert harness.settings.helpline.greeting.splitlines()[0] in out
    # Stored in a conversation, at once or by the intake worker (run by hand here).
    await harness.route_intake()
    assert harness.rows("SELECT COUNT(*) FROM messages WHERE direction = 'in'") == [(1,)]
    assert harness.rows("SELECT COUNT(*) FROM intake") == [(0,)]


def test_simulate_sms_without_a_server(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, unused_tcp_port: int
) -> None:
    """With no server listening, simulate says so plainly."""
    monkeypatch.setenv("HELPLINE_SERVER__PORT", str(unused_tcp_port))
    code = cli.main(["simulate", "sms", "--config", str(data_dir / "helpline.toml"), "--from", "+1", "--body", "x"])
    assert code == 1
    assert "no server answered" in capsys.readouterr().err


async def test_simulate_chat_reaches_the_server(
    harness: Harness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """simulate chat opens a web chat like the chat page does, and its message is stored."""
    monkeypatch.setenv("HELPLINE_SERVER__PORT", str(harness.settings.server.port))
    monkeypatch.setenv("HELPLINE_SERVER__PUBLIC_URL", harness.settings.server.public_url)
    config = str(harness.data_dir / "helpline.toml")
    args = ["simulate", "chat", "--config", config, "--body", "hello from the chat"]
    assert await asyncio.to_thread(cli.main, args) == 0
    assert "stored" in capsys.readouterr().out
    assert harness.rows("SELECT channel FROM conversations") == [("webchat",)]
