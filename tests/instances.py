"""Several real ``helpline serve`` processes on one PostgreSQL database, for the cross-instance tests.

Every process reads the same instance config and master key (as servers behind one load balancer would), has
the same public URL and Twilio settings, and listens on a port of its own, which the tests talk to directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from helpline.testing.twilio_api import FakeTwilio
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, HELPLINE_NUMBER, PASSWORD

HELPLINE = str(Path(sys.executable).parent / "helpline")
START_TIMEOUT = 60


def environment(public_url: str, twilio: FakeTwilio, **extra: str) -> dict[str, str]:
    """What every process shares: cheap password hashing, no second factor, Twilio on loopback, one public URL."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")},
        "HELPLINE_AUTH__PASSWORD_TIME_COST": "1",
        "HELPLINE_AUTH__PASSWORD_MEMORY_KIB": "1024",
        "HELPLINE_AUTH__REQUIRE_TOTP_FOR": "[]",
        "HELPLINE_SERVER__PUBLIC_URL": public_url,
        "HELPLINE_SMS__PUBLIC_BASE_URL": public_url,
        "HELPLINE_SMS__ACCOUNT_SID": ACCOUNT_SID,
        "HELPLINE_SMS__AUTH_TOKEN": AUTH_TOKEN,
        "HELPLINE_SMS__FROM_NUMBER": HELPLINE_NUMBER,
        "HELPLINE_SMS__API_BASE_URL": twilio.base_url,
        "HELPLINE_SMS__REQUEST_TIMEOUT_SECONDS": "2.0",
        "HELPLINE_STORAGE__POOL_MIN": "1",
        "HELPLINE_STORAGE__POOL_MAX": "6",
        "HELPLINE_LOG__LEVEL": "warning",
        **extra,
    }


def add_user(config: Path, env: dict[str, str], username: str, role: str = "volunteer") -> None:
    subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [HELPLINE, "user", "add", username, "--role", role, "--password-stdin", "--config", str(config)],
        input=PASSWORD,
        text=True,
        env=env,
        check=True,
        capture_output=True,
        timeout=START_TIMEOUT,
    )


@dataclass
class Server:
    """One ``helpline serve`` process."""

    name: str
    config: Path
    port: int
    env: dict[str, str]
    log: Path
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        env = {**self.env, "HELPLINE_SERVER__PORT": str(self.port), "HELPLINE_SERVER__HOST": "127.0.0.1"}
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                HELPLINE, "serve", "--config", str(self.config), env=env, stdout=out, stderr=out
            )
        async with aiohttp.ClientSession() as session:
            async with asyncio.timeout(START_TIMEOUT):
                while True:
                    if self.process.returncode is not None:
                        raise AssertionError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
                    with contextlib.suppress(aiohttp.ClientError):
                        async with session.get(f"{self.url}/readyz") as response:
                            if response.status == 200:
                                return
                    await asyncio.sleep(0.1)

    def kill(self) -> None:
        """kill -9: no shutdown of any kind."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        """An ordinary stop (SIGTERM), as a process manager does."""
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
        if self.process is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(20):
                    await self.process.wait()
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()


@dataclass
class Console:
    """A signed-in console at one server: cookie jar, CSRF token, JSON."""

    server: Server
    session: aiohttp.ClientSession
    csrf: str = ""
    sockets: list[aiohttp.ClientWebSocketResponse] = field(default_factory=list)

    @classmethod
    async def sign_in(cls, server: Server, username: str) -> Console:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        console = cls(server, session)
        async with session.post(f"{server.url}/api/login", json={"username": username, "password": PASSWORD}) as r:
            assert r.status == 200, await r.text()
            console.csrf = (await r.json())["csrf_token"]
        return console

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.session.get(f"{self.server.url}{path}") as response:
            return response.status, await response.json()

    async def post(self, path: str, payload: dict[str, Any] | None = None) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.csrf}
        async with self.session.post(f"{self.server.url}{path}", json=payload or {}, headers=headers) as response:
            return response.status, await response.json()

    async def queue(self) -> list[dict[str, Any]]:
        status, data = await self.get("/api/queue")
        assert status == 200, data
        return list(data["conversations"])

    async def socket(self, server: Server | None = None, last: str | None = None) -> aiohttp.ClientWebSocketResponse:
        """The live socket, at this console's server or another (the session is the database's), resuming after
        the event ``last`` if given."""
        at = server or self.server
        query = {"last": last} if last is not None else None
        socket = await self.session.ws_connect(f"{at.url}/console/ws", params=query, headers={"Origin": at.url})
        self.sockets.append(socket)
        return socket

    async def close(self) -> None:
        for socket in self.sockets:
            await socket.close()
        await self.session.close()


async def text(server: Server, twilio: FakeTwilio, public_url: str, sender: str, body: str) -> int:
    """Post a correctly signed inbound SMS webhook to one server, as Twilio would (signed for the public URL)."""
    params = twilio.inbound_sms_params(sender, HELPLINE_NUMBER, body)
    signature = twilio.sign(f"{public_url}/webhooks/twilio/sms", params)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{server.url}/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": signature}
        ) as response,
    ):
        await response.read()
        return response.status
