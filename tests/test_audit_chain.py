"""The audit log is a hash chain: an edited, deleted or reordered row is caught by `helpline audit verify`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from helpline import cli
from tests.conftest import Harness


async def audited_instance(harness: Harness) -> Path:
    await harness.text("+447700900123", "hello")
    amira = await harness.console("amira")
    conversation = (await (await amira.post("/api/queue/take")).json())["id"]
    await amira.post(f"/api/conversations/{conversation}/close", {"outcome": "advice"})
    await harness.close()
    assert harness.rows("SELECT COUNT(*) FROM audit")[0][0] >= 5
    return harness.data_dir / "helpline.toml"


async def verify(config: Path, *extra: str) -> int:
    return await run_cli("audit", "verify", "--config", str(config), *extra)


async def run_cli(*args: str) -> int:
    """The CLI runs its own event loop, so it runs in a thread here, as from a shell."""
    return await asyncio.to_thread(cli.main, list(args))


async def test_intact_log_verifies_and_head_is_printed(harness: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    """An untouched log verifies, and `audit head` prints the hash to keep elsewhere."""
    config = await audited_instance(harness)
    assert await run_cli("audit", "head", "--config", str(config)) == 0
    head = capsys.readouterr().out.strip()
    assert len(head) == 64
    assert await verify(config, "--expect-head", head) == 0
    assert "intact" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("attack", "sql"),
    [
        ("edited", "UPDATE audit SET actor = 'someone-else' WHERE seq = 3"),
        ("deleted", "DELETE FROM audit WHERE seq = 3"),
        ("reordered", "UPDATE audit SET seq = CASE seq WHEN 2 THEN 3 WHEN 3 THEN 2 END WHERE seq IN (2, 3)"),
        ("detail rewritten", 'UPDATE audit SET detail = \'{"outcome": "nothing"}\' WHERE seq = 3'),
    ],
)
async def test_tampering_is_caught(harness: Harness, capsys: pytest.CaptureFixture[str], attack: str, sql: str) -> None:
    """Each kind of tampering makes verify fail and name an entry at or before the change."""
    config = await audited_instance(harness)
    if attack == "reordered":
        harness.db.execute("UPDATE audit SET seq = -seq WHERE seq IN (2, 3)")
        harness.db.execute("UPDATE audit SET seq = CASE seq WHEN -2 THEN 3 WHEN -3 THEN 2 END WHERE seq < 0")
    else:
        harness.db.execute(sql)
    assert await verify(config) == 1
    message = capsys.readouterr().err
    assert "broken at entry" in message
    assert int(message.split("entry ")[1].split(":")[0]) <= 3


async def test_truncation_is_caught_with_the_kept_head(harness: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    """Removing the newest entries leaves a valid chain; the head kept elsewhere exposes it."""
    config = await audited_instance(harness)
    await run_cli("audit", "head", "--config", str(config))
    head = capsys.readouterr().out.strip()
    harness.db.execute("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)")
    assert await verify(config) == 0
    assert await verify(config, "--expect-head", head) == 1
