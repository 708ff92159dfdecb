"""Stopping `helpline serve` with consoles open: their sockets are told to reconnect and closed, in seconds."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from tests.conftest import PASSWORD

# A console socket left open used to hold a stop up for about 35 seconds.
STOP_WITHIN_SECONDS = 10


def _cli(data_dir: Path, *args: str, stdin: str | None = None, env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "helpline.cli", *args, "--config", str(data_dir / "helpline.toml")]
    subprocess.run(command, input=stdin, text=True, check=True, env=env, capture_output=True, timeout=60)  # noqa: S603


async def _wait_ready(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)  # polling a child process's start, not a timer of ours
    raise AssertionError("the server never became healthy")


async def test_a_stop_with_consoles_open_closes_them_in_seconds(data_dir: Path, unused_tcp_port: int) -> None:
    """SIGTERM with a console socket open: the socket hears 1012 (reconnect), and the server exits in seconds."""
    port = unused_tcp_port
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "HELPLINE_SERVER__PORT": str(port),
        "HELPLINE_SERVER__PUBLIC_URL": base,
        "HELPLINE_AUTH__PASSWORD_TIME_COST": "1",
        "HELPLINE_AUTH__PASSWORD_MEMORY_KIB": "1024",
        "HELPLINE_AUTH__REQUIRE_TOTP_FOR": "[]",
    }
    _cli(data_dir, "user", "add", "amira", "--role", "volunteer", "--password-stdin", stdin=PASSWORD + "\n", env=env)
    command = [sys.executable, "-m", "helpline.cli", "serve", "--config", str(data_dir / "helpline.toml")]
    server = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        await _wait_ready(base)
        # The cookie jar must accept cookies from an IP address (127.0.0.1).
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            login = await session.post(f"{base}/api/login", json={"username": "amira", "password": PASSWORD})
            assert login.status == 200
            socket = await session.ws_connect(f"{base}/console/ws", headers={"Origin": base})
            assert (await socket.receive_json(timeout=5))["type"] == "hello"
            started = time.monotonic()
            server.send_signal(signal.SIGTERM)
            closing = await socket.receive(timeout=STOP_WITHIN_SECONDS)
            assert closing.type == aiohttp.WSMsgType.CLOSE
            assert closing.data == 1012
        async with asyncio.timeout(STOP_WITHIN_SECONDS):
            output, _ = await server.communicate()
        assert time.monotonic() - started < STOP_WITHIN_SECONDS
        assert b"console.closing_sockets" in output
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
