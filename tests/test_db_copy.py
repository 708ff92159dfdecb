"""Moving a helpline to PostgreSQL (``helpline db copy``) and backing up SQLite (``helpline backup``)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from helpline import cli
from helpline.app import build
from helpline.settings import Settings
from helpline.testing.twilio_api import FakeTwilio
from tests.conftest import FakeClock, Harness
from tests.direct_db import DirectDb

TEXTER = "+447700900123"


@pytest.fixture
async def on_sqlite(
    settings: Settings, clock: FakeClock, fake_twilio: FakeTwilio, data_dir: Path, port: int
) -> AsyncIterator[Harness]:
    """A running server on the instance's SQLite file, whatever engine the suite runs on."""
    helpline = build(settings.replace("storage", database_url=""), clock)
    running = await Harness.serving(helpline, fake_twilio, clock, data_dir, port)
    yield running
    await running.close()


async def busy_helpline(harness: Harness) -> str:
    """A conversation with a reply sent, a note, an escalation and a closed outcome; returns its id."""
    await harness.text(TEXTER, "COPYCANARY I need to talk to someone")
    amira = await harness.console("amira")
    conversation = (await (await amira.post("/api/queue/take")).json())["id"]
    assert (
        await amira.post(f"/api/conversations/{conversation}/messages", {"body": "We are here for you."})
    ).status == 201
    await harness.send_outbox()
    await amira.post(f"/api/conversations/{conversation}/notes", {"body": "a private note"})
    flag = {"category": "suicide", "level": "concern", "note": "talked about pills"}
    assert (await amira.post(f"/api/conversations/{conversation}/flag", flag)).status in (200, 201)
    await harness.console("sam", role="supervisor")
    return str(conversation)


def counts(db: DirectDb, tables: list[str]) -> dict[str, int]:
    return {table: db.rows(f"SELECT COUNT(*) FROM {table}")[0][0] for table in tables}  # noqa: S608 - catalogue names


async def run_cli(*args: str) -> int:
    return await asyncio.to_thread(cli.main, list(args))


@pytest.mark.postgres_only
async def test_copy_moves_a_helpline_to_postgresql(
    on_sqlite: Harness, database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every row arrives as it was, the audit chain verifies there, and a conversation reads the same."""
    conversation = await busy_helpline(on_sqlite)
    lite = DirectDb(on_sqlite.settings.storage.database)
    tables = [t for t in lite.tables() if t not in ("schema_migrations", "sqlite_sequence")]
    before = counts(lite, tables)
    await on_sqlite.close()
    config = str(on_sqlite.data_dir / "helpline.toml")
    with monkeypatch.context() as source:
        source.setenv("HELPLINE_STORAGE__DATABASE_URL", "")
        assert await run_cli("db", "copy", "--to", database_url, "--config", config) == 0
    assert "wrapped keys and secrets open" in capsys.readouterr().out
    assert counts(DirectDb(Path(), database_url), tables) == before
    assert await run_cli("audit", "verify", "--config", config) == 0
    moved = build(on_sqlite.settings.replace("storage", database_url=database_url), on_sqlite.clock)
    await moved.store.open()
    try:
        sam = (await moved.accounts.sign_in("sam", "correct horse battery staple")).session.user
        view = await moved.conversations.view(sam, conversation)
    finally:
        await moved.store.close()
    bodies = [m.body for m in view.messages]
    assert "COPYCANARY I need to talk to someone" in bodies and "We are here for you." in bodies
    assert [n.body for n in view.notes] == ["a private note"]


@pytest.mark.postgres_only
async def test_copy_refuses_a_database_that_is_not_empty(
    on_sqlite: Harness, database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second copy into the same database is refused, and leaves it as the first one left it."""
    await busy_helpline(on_sqlite)
    await on_sqlite.close()
    config = str(on_sqlite.data_dir / "helpline.toml")
    monkeypatch.setenv("HELPLINE_STORAGE__DATABASE_URL", "")
    assert await run_cli("db", "copy", "--to", database_url, "--config", config) == 0
    target = DirectDb(Path(), database_url)
    messages = target.rows("SELECT COUNT(*) FROM messages")
    capsys.readouterr()
    assert await run_cli("db", "copy", "--to", database_url, "--config", config) == 2
    assert "not empty" in capsys.readouterr().err
    assert target.rows("SELECT COUNT(*) FROM messages") == messages


async def test_backup_copies_a_running_sqlite_database(
    on_sqlite: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the server runs, the backup is a complete database file, private to its owner, without the master key."""
    await busy_helpline(on_sqlite)
    monkeypatch.setenv("HELPLINE_STORAGE__DATABASE_URL", "")
    target = tmp_path / "copy.db"
    config = str(on_sqlite.data_dir / "helpline.toml")
    assert await run_cli("backup", "--to", str(target), "--config", config) == 0
    assert "master key is not in it" in capsys.readouterr().out
    assert target.stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        copied = copy.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    assert copied == on_sqlite.rows("SELECT COUNT(*) FROM messages")[0][0] >= 2
    key = (on_sqlite.data_dir / "master.key").read_bytes().strip()
    assert key not in target.read_bytes()
    assert await run_cli("backup", "--to", str(target), "--config", config) == 2
    assert "exists already" in capsys.readouterr().err


async def test_backup_on_postgresql_points_to_pg_dump(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL, `helpline backup` says to use pg_dump or point-in-time recovery, and writes nothing."""
    monkeypatch.setenv("HELPLINE_STORAGE__DATABASE_URL", "postgresql://helpline@127.0.0.1:5432/helpline")
    target = data_dir / "copy.db"
    assert await run_cli("backup", "--to", str(target), "--config", str(data_dir / "helpline.toml")) == 2
    assert "pg_dump" in capsys.readouterr().err
    assert not target.exists()
