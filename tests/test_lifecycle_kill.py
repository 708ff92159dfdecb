"""kill -9 in the middle of `helpline purge` or `helpline keys rotate`: the next run finishes, nothing is lost.

The real command runs as a subprocess on a data directory with hundreds of conversations, in small batches,
and is killed with SIGKILL as soon as it reports progress. Then every row is checked (either fully done or
untouched, and readable if it should be), and the command is run again to completion.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpline.app import build
from helpline.core.closing import ClosingForm
from helpline.core.models import Inbound
from helpline.settings import Settings, load
from tests.conftest import FakeClock
from tests.direct_db import DirectDb

CONVERSATIONS = 300
BATCH = "3"


def instance(data_dir: Path, **environ: str) -> Settings:
    return load(data_dir / "helpline.toml", environ=environ)


async def fill(data_dir: Path, *, closed: bool) -> list[str]:
    """Hundreds of conversations made through the real core, 60 days ago; closed if asked. Returns their ids."""
    clock = FakeClock(datetime.now(UTC) - timedelta(days=60))
    # Only making the rows is fast and loose; the commands under test run with the instance's settings.
    helpline = build(instance(data_dir, HELPLINE_STORAGE__SYNCHRONOUS="NORMAL"), clock)
    await helpline.store.open()
    try:
        supervisor = await helpline.accounts.add_user("sam", "supervisor", "a long enough password")
        ids: list[str] = []
        for start in range(0, CONVERSATIONS, 100):
            received = await asyncio.gather(
                *(
                    helpline.conversations.receive(
                        Inbound("sms", f"+4477009{n:05d}", f"SM{n:032x}", f"KILLTEST message {n}")
                    )
                    for n in range(start, start + 100)
                )
            )
            ids += [r.conversation_id for r in received if r.conversation_id is not None]
        if closed:
            await asyncio.gather(*(helpline.closer.close(supervisor, cid, ClosingForm("support")) for cid in ids))
        return ids
    finally:
        await helpline.store.close()


async def readable(data_dir: Path, conversation_ids: list[str], then_text: str = "") -> int:
    """How many of these conversations' transcripts a supervisor can read in full (plus one if a new text from
    ``then_text`` lands in one of them: its route still works)."""
    helpline = build(instance(data_dir), FakeClock())
    await helpline.store.open()
    try:
        routed = 0
        if then_text:
            again = await helpline.conversations.receive(Inbound("sms", then_text, "SM" + "e" * 32, "again"))
            routed = int(again.conversation_id in conversation_ids)
        name = f"reader-{secrets.token_hex(4)}"
        supervisor = await helpline.accounts.add_user(name, "supervisor", "a long enough password")
        opened = 0
        for conversation_id in conversation_ids:
            view = await helpline.conversations.view(supervisor, conversation_id)
            if view.messages and view.messages[0].body.startswith("KILLTEST message"):
                opened += 1
        return opened + routed
    finally:
        await helpline.store.close()


def kill_after_progress(data_dir: Path, command: list[str], marker: str) -> str:
    """Start the real CLI, SIGKILL it when it prints a progress line containing ``marker``; returns what it printed."""
    env = {**os.environ, "HELPLINE_RETENTION__PURGE_BATCH_SIZE": BATCH}
    process = subprocess.Popen(  # noqa: S603 - our own CLI, with fixed arguments
        [sys.executable, "-m", "helpline.cli", *command, "--config", str(data_dir / "helpline.toml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    printed = []
    for line in process.stdout:
        printed.append(line)
        if line.startswith("progress:") and marker in line:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    process.stdout.close()
    assert process.stderr is not None
    process.stderr.close()
    assert process.returncode == -signal.SIGKILL, "".join(printed)
    return "".join(printed)


def run_to_end(data_dir: Path, command: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HELPLINE_RETENTION__PURGE_BATCH_SIZE": BATCH}
    return subprocess.run(  # noqa: S603 - our own CLI, with fixed arguments
        [sys.executable, "-m", "helpline.cli", *command, "--config", str(data_dir / "helpline.toml")],
        capture_output=True,
        text=True,
        env=env,
        timeout=90,
        check=False,
    )


def database(data_dir: Path) -> DirectDb:
    return DirectDb.of(load(data_dir / "helpline.toml", environ={}))


def rows(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    return database(data_dir).rows(sql)


@pytest.mark.timeout(300)  # several real processes, each building the whole server
def test_purge_killed_midway_resumes_cleanly(data_dir: Path) -> None:
    """After SIGKILL each conversation is wholly purged or untouched and readable; the rerun purges the rest."""
    ids = asyncio.run(fill(data_dir, closed=True))
    kill_after_progress(data_dir, ["purge"], "conversations")

    if not database(data_dir).postgres:
        assert rows(data_dir, "PRAGMA integrity_check") == [("ok",)]
    states = rows(
        data_dir,
        "SELECT c.data_key IS NULL, c.purged_at IS NOT NULL, (SELECT COUNT(*) FROM messages m"
        " WHERE m.conversation_id = c.id) FROM conversations c",
    )
    purged = [s for s in states if s[0]]
    untouched = [s for s in states if not s[0]]
    assert purged and untouched, "the kill should land mid-purge"
    assert all(s == (1, 1, 0) for s in purged)
    assert all(s == (0, 0, 2) for s in untouched)
    left = [row[0] for row in rows(data_dir, "SELECT id FROM conversations WHERE data_key IS NOT NULL")]
    assert asyncio.run(readable(data_dir, [str(c) for c in left])) == len(left)

    finished = run_to_end(data_dir, ["purge"])
    assert finished.returncode == 0, finished.stderr
    assert rows(data_dir, "SELECT COUNT(*) FROM conversations WHERE data_key IS NOT NULL") == [(0,)]
    assert rows(data_dir, "SELECT COUNT(*) FROM messages") == [(0,)]
    assert rows(data_dir, "SELECT COUNT(*) FROM audit WHERE action = 'conversation.purged'") == [(len(ids),)]
    if not database(data_dir).postgres:  # PostgreSQL recycles its own WAL (see SECURITY.md)
        wal = data_dir / "helpline.db-wal"  # empty, or gone when the last connection closed
        assert not wal.exists() or wal.stat().st_size == 0
    assert b"KILLTEST" not in database(data_dir).stored_bytes()


@pytest.mark.timeout(300)  # several real processes, each building the whole server
def test_rotation_killed_midway_resumes_cleanly(data_dir: Path) -> None:
    """After SIGKILL every key still opens under one version or the other; the rerun finishes without a third."""
    ids = asyncio.run(fill(data_dir, closed=False))
    kill_after_progress(data_dir, ["keys", "rotate"], "keys")

    if not database(data_dir).postgres:
        assert rows(data_dir, "PRAGMA integrity_check") == [("ok",)]
    versions = {row[0] for row in rows(data_dir, "SELECT DISTINCT kek_version FROM conversations")}
    assert versions == {1, 2}, "the kill should land mid-rotation"
    verified = run_to_end(data_dir, ["keys", "verify"])
    assert verified.returncode == 0, verified.stderr
    assert asyncio.run(readable(data_dir, ids)) == len(ids)

    resumed = run_to_end(data_dir, ["keys", "rotate"])
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming the rotation to master key version 2" in resumed.stdout
    assert rows(data_dir, "SELECT DISTINCT kek_version FROM conversations") == [(2,)]
    assert '"3"' not in (data_dir / "master.key").read_text()
    assert asyncio.run(readable(data_dir, ids, then_text="+447700900042")) == len(ids) + 1
