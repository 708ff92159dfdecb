"""The servers under test: a fresh instance in a temporary directory, served by ``helpline serve`` in one child
process or several (on PostgreSQL), and the reference endpoints, each in a child process too."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from helpline.app import build
from helpline.settings import Settings, load

ACCOUNT_SID = "AC" + "b3" * 16
AUTH_TOKEN = "5e" * 16
HELPLINE_NUMBER = "+447700900001"
PASSWORD = "bench volunteer password"  # noqa: S105 - for throwaway accounts in a temp directory
SMS_PATH = "/webhooks/twilio/sms"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
ROUTED_POLL_SECONDS = 0.01


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def resident_bytes(pid: int) -> int:
    """A process's resident memory (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS for the server process")


def cpu_seconds(pid: int) -> float:
    """CPU time a process (all its threads) has used so far, user and system."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    # After the command name: state is field 3 of stat(5), utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Instance:
    """A fresh data directory and the settings every server process is started with, each on a port of its own.

    Every process reads the same config and master key and has the same public URL (the first one's), as
    servers behind one load balancer would; clients talk to each one directly.
    """

    directory: Path
    config: Path
    ports: tuple[int, ...]
    environ: Mapping[str, str]

    @property
    def public_url(self) -> str:
        return self.base_url(0)

    def base_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.ports[n]}"

    def environ_for(self, n: int) -> dict[str, str]:
        return {**self.environ, "HELPLINE_SERVER__PORT": str(self.ports[n])}

    def settings(self) -> Settings:
        return load(self.config, self.environ_for(0))


async def prepare(
    directory: Path,
    *,
    twilio_url: str,
    chat_sockets: int,
    volunteers: int,
    database_url: str = "",
    instances: int = 1,
) -> Instance:
    """``helpline init`` a data directory (on PostgreSQL, migrating the database), and the settings that point the
    servers at the fake Twilio API."""
    data_dir = directory / "var"
    on_postgres = ["--database-url", database_url] if database_url else []
    init = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "helpline.cli",
        "init",
        "--data-dir",
        str(data_dir),
        *on_postgres,
        stdout=subprocess.DEVNULL,
    )
    if await init.wait() != 0:
        raise RuntimeError("helpline init failed")
    ports = tuple(free_port() for _ in range(instances))
    base = f"http://127.0.0.1:{ports[0]}"
    environ = {
        "HELPLINE_SERVER__PUBLIC_URL": base,
        "HELPLINE_SMS__ACCOUNT_SID": ACCOUNT_SID,
        "HELPLINE_SMS__AUTH_TOKEN": AUTH_TOKEN,
        "HELPLINE_SMS__FROM_NUMBER": HELPLINE_NUMBER,
        "HELPLINE_SMS__API_BASE_URL": twilio_url,
        "HELPLINE_SMS__PUBLIC_BASE_URL": base,
        # Every simulated chat comes from 127.0.0.1, one network: its connection limit must admit them all.
        "HELPLINE_WEBCHAT__NETWORK_CONNECTIONS": str(chat_sockets + 100),
        # Signing hundreds of volunteers in is set-up, not what is measured: cheap password hashing, and every
        # volunteer signs in from 127.0.0.1, one network, many at once (an attempt counts until it is checked).
        "HELPLINE_AUTH__NETWORK_FAILURES": str(volunteers + 100),
        "HELPLINE_AUTH__PASSWORD_TIME_COST": "1",
        "HELPLINE_AUTH__PASSWORD_MEMORY_KIB": "1024",
    }
    return Instance(data_dir, data_dir / "helpline.toml", ports, environ)


async def add_volunteers(instance: Instance, names: Sequence[str]) -> None:
    """Create the volunteers' accounts directly in the instance's database, before the server starts."""
    helpline = build(instance.settings())
    await helpline.store.open()
    try:
        for name in names:
            await helpline.accounts.add_user(name, "volunteer", PASSWORD)
    finally:
        await helpline.store.close()


class ServerProcess:
    """``helpline serve`` as server ``n`` of an instance, in a child process; its log goes beside the data."""

    def __init__(self, instance: Instance, n: int = 0) -> None:
        self.instance = instance
        self.n = n
        self.port = instance.ports[n]
        self.base_url = instance.base_url(n)
        self._process: subprocess.Popen[bytes] | None = None
        self._log = instance.directory / ("server.log" if n == 0 else f"server-{n}.log")

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the server is not running")
        return self._process.pid

    async def start(self) -> None:
        command = [sys.executable, "-m", "helpline.cli", "serve", "--config", str(self.instance.config)]
        with self._log.open("ab") as log_file:
            self._process = subprocess.Popen(  # noqa: S603, ASYNC220 - our own command; returns at once
                command,
                env={**os.environ, **self.instance.environ_for(self.n)},
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        await wait_ready(f"{self.base_url}/readyz", self._process)

    def resident_bytes(self) -> int:
        return resident_bytes(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    async def stop(self) -> int | None:
        """Stop gracefully (SIGINT, as Ctrl-C would); kill it if it does not stop in time."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGINT)
        return await _reap(process)


async def wait_ready(url: str, process: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``url`` until it answers 200, the process dies, or the start timeout passes."""
    deadline = time.monotonic() + START_TIMEOUT
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"the process exited with {process.returncode} before it was ready")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"nothing answered at {url} within {START_TIMEOUT:.0f} s")


async def wait_routed(base_url: str, give_up_after: float) -> float | None:
    """Poll ``/metrics`` until the server has routed every message it accepted; the monotonic time it saw that.

    None if it had not within ``give_up_after`` seconds.
    """
    deadline = time.monotonic() + give_up_after
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            async with session.get(f"{base_url}/metrics") as response:
                text = await response.text()
            if _gauge(text, "helpline_intake_routed_total") >= _gauge(text, "helpline_intake_accepted_total"):
                return time.monotonic()
            await asyncio.sleep(ROUTED_POLL_SECONDS)
    return None


def _gauge(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise RuntimeError(f"/metrics has no {name}")


class ReferenceProcess:
    """A reference endpoint in a child process: the bare ceiling (``helpline.bench.ceiling``) or the durable
    reference (``helpline.bench.durable``)."""

    def __init__(self, module: str, *arguments: str, environ: Mapping[str, str] | None = None) -> None:
        self.port = free_port()
        self._command = [sys.executable, "-m", module, *arguments]
        self._environ = environ
        self._process: subprocess.Popen[bytes] | None = None

    @classmethod
    def ceiling(cls) -> ReferenceProcess:
        process = cls("helpline.bench.ceiling")
        process._command.append(str(process.port))
        return process

    @classmethod
    def durable(cls, where: str, *, auth_token: str, public_base_url: str, pool_size: int) -> ReferenceProcess:
        """The durable reference on a PostgreSQL database (``where`` is its URL) or else a SQLite file (its path),
        checking signatures made with ``auth_token`` for ``public_base_url``."""
        environ = {"HELPLINE_SMS__AUTH_TOKEN": auth_token, "HELPLINE_SMS__PUBLIC_BASE_URL": public_base_url}
        engine = "postgresql" if where.startswith(("postgresql:", "postgres:")) else "sqlite"
        process = cls("helpline.bench.durable", engine, where, environ=environ)
        process._command += [str(process.port), str(pool_size)]
        return process

    async def start(self) -> None:
        self._process = subprocess.Popen(  # noqa: S603, ASYNC220 - our own command; returns at once
            self._command,
            env={**os.environ, **(self._environ or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        await wait_ready(f"http://127.0.0.1:{self.port}/healthz", self._process)

    def cpu_seconds(self) -> float:
        if self._process is None:
            raise RuntimeError("the reference is not running")
        return cpu_seconds(self._process.pid)

    async def stop(self) -> int | None:
        """Stop it (SIGINT: the durable reference closes its database first); its exit code."""
        process, self._process = self._process, None
        if process is None:
            return None
        process.send_signal(signal.SIGINT)
        return await _reap(process)


async def _reap(process: subprocess.Popen[bytes]) -> int:
    """Wait for a child told to stop; kill it if it has not stopped in time. Its exit code."""
    try:
        return await asyncio.to_thread(process.wait, STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        return await asyncio.to_thread(process.wait)
