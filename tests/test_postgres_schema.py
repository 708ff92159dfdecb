"""On PostgreSQL: `helpline init` migrates, and `helpline serve` refuses a database it cannot trust the schema of."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from helpline import cli
from helpline.clock import SystemClock
from helpline.store.postgres import schema
from helpline.store.postgres.database import PostgresStore
from tests.engines import drop_database, empty_database

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def empty_url() -> Iterator[str]:
    """A database with nothing in it, as an operator's `createdb` makes."""
    name = f"helpline_test_{os.getpid()}_empty_{secrets.token_hex(3)}"
    yield empty_database(name)
    drop_database(name)


async def version_of(url: str) -> int | None:
    conn = await asyncpg.connect(url)
    try:
        return await schema.schema_version(conn)
    finally:
        await conn.close()


def serve(config: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    """`helpline serve` in a process of its own, as an operator starts it."""
    return subprocess.run(  # noqa: S603 - our own CLI, with fixed arguments
        [sys.executable, "-m", "helpline.cli", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        env={**os.environ, **environ},
        timeout=60,
        check=False,
    )


async def test_serve_refuses_an_unmigrated_database(
    tmp_path: Path, empty_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pointed at an empty database, serve stops at once and says to run `helpline init`."""
    assert await asyncio.to_thread(cli.main, ["init", "--data-dir", str(tmp_path / "var")]) == 0
    served = await asyncio.to_thread(
        serve, tmp_path / "var" / "helpline.toml", HELPLINE_STORAGE__DATABASE_URL=empty_url
    )
    assert served.returncode == 2
    assert "no helpline schema yet: run `helpline init`" in served.stderr and "Traceback" not in served.stderr
    assert await version_of(empty_url) is None


async def test_init_migrates_and_two_at_once_do_not_race(empty_url: str) -> None:
    """Two processes migrating one database at once: the advisory lock lets one apply each migration, once."""
    first, second = PostgresStore(empty_url, SystemClock()), PostgresStore(empty_url, SystemClock())
    versions = await asyncio.gather(first.migrate(), second.migrate())
    assert list(versions) == [schema.latest_version()] * 2
    conn = await asyncpg.connect(empty_url)
    try:
        applied = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await conn.close()
    assert [row[0] for row in applied] == [m.version for m in schema.migrations()]


async def test_init_with_a_database_url_migrates_it(
    tmp_path: Path, empty_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`helpline init --database-url` migrates that database and writes the URL into the instance config."""
    assert (
        await asyncio.to_thread(cli.main, ["init", "--data-dir", str(tmp_path / "var"), "--database-url", empty_url])
        == 0
    )
    assert await version_of(empty_url) == schema.latest_version()
    assert f'database_url = "{empty_url}"' in (tmp_path / "var" / "helpline.toml").read_text()
    assert not (tmp_path / "var" / "helpline.db").exists()


async def test_serve_refuses_a_newer_schema(tmp_path: Path, empty_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A database a newer helpline migrated further is refused, naming both versions."""
    assert (
        await asyncio.to_thread(cli.main, ["init", "--data-dir", str(tmp_path / "var"), "--database-url", empty_url])
        == 0
    )
    conn = await asyncpg.connect(empty_url)
    try:
        await conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'x', now())")
    finally:
        await conn.close()
    served = await asyncio.to_thread(serve, tmp_path / "var" / "helpline.toml")
    assert served.returncode == 2
    assert "version 999, newer than this helpline knows" in served.stderr
