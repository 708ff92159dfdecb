"""``helpline simulate email``: a demo contact's email reaches the running server over SMTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from helpline import cli
from helpline.settings import Settings
from tests.conftest import Harness
from tests.fakes.email_contact import HELPLINE_ADDRESS, email_settings, smtp_port
from tests.fakes.smtp_sink import SmtpSink


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as running:
        yield running


@pytest.fixture
def settings(settings: Settings, sink: SmtpSink) -> Settings:
    return email_settings(settings, sink)


def email_environment(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    monkeypatch.setenv("HELPLINE_EMAIL__ENABLED", "true")
    monkeypatch.setenv("HELPLINE_EMAIL__ADDRESSES", f'["{HELPLINE_ADDRESS}"]')
    monkeypatch.setenv("HELPLINE_EMAIL__SMTP_PORT", str(port))


async def test_simulate_email_reaches_the_server(
    harness: Harness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """simulate email sends a message the running server takes into a new conversation."""
    email_environment(monkeypatch, smtp_port(harness))
    config = str(harness.data_dir / "helpline.toml")
    args = ["simulate", "email", "--config", config, "--from", "jo@example.net", "--body", "hello by email"]
    assert await asyncio.to_thread(cli.main, args) == 0
    assert "Email sent: 250" in capsys.readouterr().out
    assert harness.rows("SELECT channel FROM conversations") == [("email",)]


def test_simulate_email_without_a_server(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, unused_tcp_port: int
) -> None:
    """With no SMTP server listening, simulate says so plainly."""
    email_environment(monkeypatch, unused_tcp_port)
    config = str(data_dir / "helpline.toml")
    assert cli.main(["simulate", "email", "--config", config, "--from", "a@example.net", "--body", "x"]) == 1
    assert "no SMTP server answered" in capsys.readouterr().err


def test_simulate_email_with_email_off(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With email turned off, simulate says what to set."""
    config = str(data_dir / "helpline.toml")
    assert cli.main(["simulate", "email", "--config", config, "--from", "a@example.net", "--body", "x"]) == 2
    assert "email.enabled" in capsys.readouterr().err
