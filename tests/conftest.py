"""Shared test fixtures: a fake clock, a fresh instance in a temp dir, the fake Twilio API, a running server."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse, ClientWebSocketResponse
from aiohttp.test_utils import TestClient, TestServer

from helpline import cli, log
from helpline.app import Helpline, build, build_app
from helpline.settings import Settings, load
from helpline.store.postgres.database import PostgresStore
from helpline.store.sqlite.database import SqliteStore
from helpline.testing.twilio_api import FakeTwilio
from helpline.web import serving
from tests.direct_db import DirectDb
from tests.engines import Databases, on_postgres, url_of
from tests.stored import Store

ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "f" * 32
HELPLINE_NUMBER = "+447700900001"
PASSWORD = "correct horse battery staple"


class FakeClock:
    """A clock that moves only when a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


class CapturedLog:
    """Every log line written while a test runs."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()

    @property
    def text(self) -> str:
        return self.stream.getvalue()


@pytest.fixture(autouse=True)
def captured_log() -> Iterator[CapturedLog]:
    captured = CapturedLog()
    log.configure("debug", captured.stream)
    yield captured
    logging.getLogger().handlers.clear()


# Modules whose tests never reach the database through ``database_url`` but would run on both engines anyway: the
# browser tests drive the same server through Chromium, slowly; their server side is covered by the API tests.
ENGINE_INDEPENDENT = ("test_console_browser", "test_webchat_browser")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, run only the tests that use the database (through ``database_url``), and no browser tests;
    on SQLite, all but the races between concurrent transactions (SQLite runs one writer at a time)."""
    chosen: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        if not on_postgres():
            (dropped if item.get_closest_marker("postgres_only") else chosen).append(item)
            continue
        uses_db = "database_url" in getattr(item, "fixturenames", ()) or item.get_closest_marker("postgres_only")
        independent = item.path.name.startswith(ENGINE_INDEPENDENT)
        (chosen if uses_db and not independent else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = chosen


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[Databases | None]:
    """On PostgreSQL, this run's template database (migrated once), dropped at the end."""
    if not on_postgres():
        yield None
        return
    databases = Databases()
    databases.create_template()
    yield databases
    databases.close()


@pytest.fixture
def database_url(pg_databases: Databases | None) -> Iterator[str]:
    """Empty on SQLite; on PostgreSQL, the URL of a fresh migrated database of this test's own."""
    if pg_databases is None:
        yield ""
        return
    name = pg_databases.new()
    yield url_of(name)
    pg_databases.drop(name)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(database_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    """A migrated, empty store on the engine this run tests."""
    opened: Store
    if database_url:
        opened = await PostgresStore(database_url, clock, pool_min=1, pool_max=2).open()
    else:
        opened = await SqliteStore(tmp_path / "h.db", clock).open()
    yield opened
    await opened.close()


@pytest.fixture
def data_dir(tmp_path: Path, database_url: str) -> Path:
    """A fresh instance made by ``helpline init``: on PostgreSQL, its config names this test's database."""
    directory = tmp_path / "var"
    on_postgres = ["--database-url", database_url] if database_url else []
    assert cli.main(["init", "--data-dir", str(directory), *on_postgres]) == 0
    return directory


@pytest.fixture
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def port(unused_tcp_port: int) -> int:
    return unused_tcp_port


@pytest.fixture
def settings(data_dir: Path, fake_twilio: FakeTwilio, port: int) -> Settings:
    loaded = load(data_dir / "helpline.toml", environ={})
    loaded = loaded.replace("storage", pool_min=1, pool_max=4)
    loaded = loaded.replace(
        "sms",
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number=HELPLINE_NUMBER,
        api_base_url=fake_twilio.base_url,
        public_base_url=f"http://127.0.0.1:{port}",
        request_timeout_seconds=1.0,  # the fake answers in milliseconds; stalls must end quickly
    )
    loaded = loaded.replace("server", port=port, public_url=f"http://127.0.0.1:{port}")
    # The risk scanner's meaning layer loads a model (a second, 100 MB) for every server built: off here;
    # tests/test_risk_meaning_server.py turns it on.
    loaded = loaded.replace("safeguarding", meaning_layer=False)
    # Cheap hashing keeps the suite fast; production costs are in config/default.toml. Two-factor sign-in is
    # off so tests can sign supervisors in with a password; tests/test_totp.py turns it on.
    return loaded.replace("auth", password_time_cost=1, password_memory_kib=1024, require_totp_for=())


class Console:
    """A browser-like console client: cookie jar, CSRF token, JSON."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client
        self.csrf = ""

    async def login(self, username: str, password: str = PASSWORD) -> ClientResponse:
        response = await self.client.post("/api/login", json={"username": username, "password": password})
        if response.status == 200:
            self.csrf = (await response.json())["csrf_token"]
        return response

    async def get(self, path: str) -> ClientResponse:
        return await self.client.get(path)

    async def open_console(self) -> ClientWebSocketResponse:
        """Open the console's live socket as every console page does: the user is present while it is open."""
        origin = str(self.client.make_url("/")).rstrip("/")
        socket = await self.client.ws_connect("/console/ws", headers={"Origin": origin})
        hello = await socket.receive_json(timeout=5)
        assert hello["type"] == "hello"
        return socket

    async def post(self, path: str, payload: dict[str, Any] | None = None) -> ClientResponse:
        return await self.client.post(path, json=payload or {}, headers={"X-CSRF-Token": self.csrf})

    async def queue(self) -> list[dict[str, Any]]:
        response = await self.get("/api/queue")
        assert response.status == 200
        conversations: list[dict[str, Any]] = (await response.json())["conversations"]
        return conversations

    async def conversation(self, conversation_id: str) -> dict[str, Any]:
        response = await self.get(f"/api/conversations/{conversation_id}")
        assert response.status == 200, await response.text()
        data: dict[str, Any] = await response.json()
        return data


@dataclass
class Harness:
    """A running server over a fresh instance, with the fake Twilio API behind it."""

    helpline: Helpline
    server: TestServer
    twilio: FakeTwilio
    clock: FakeClock
    data_dir: Path
    _clients: list[TestClient[Any, Any]] = field(default_factory=list)

    @classmethod
    async def serving(
        cls, helpline: Helpline, twilio: FakeTwilio, clock: FakeClock, data_dir: Path, port: int
    ) -> Harness:
        """Serve ``helpline`` on 127.0.0.1:``port``, without its background workers (tests run them once each)."""
        server = TestServer(build_app(helpline, run_workers=False), port=port)
        await server.start_server()
        return cls(helpline, server, twilio, clock, data_dir)

    @property
    def settings(self) -> Settings:
        return self.helpline.settings

    async def console(self, username: str | None = None, role: str = "volunteer", *, live: bool = False) -> Console:
        """A new console client, signed in as a new user when ``username`` is given; ``live``: its console open."""
        client: TestClient[Any, Any] = TestClient(self.server)
        await client.start_server()
        self._clients.append(client)
        console = Console(client)
        if username is not None:
            await self.helpline.accounts.add_user(username, role, PASSWORD)
            response = await console.login(username)
            assert response.status == 200
            if live:
                await console.open_console()
        return console

    async def text(self, sender: str, body: str, *, sid: str | None = None) -> ClientResponse:
        """Post a correctly signed inbound SMS webhook, as Twilio would."""
        params = self.twilio.inbound_sms_params(sender, HELPLINE_NUMBER, body)
        if sid is not None:
            params["MessageSid"] = params["SmsSid"] = params["SmsMessageSid"] = sid
        return await self.post_webhook("/webhooks/twilio/sms", params)

    async def post_webhook(
        self, path: str, params: dict[str, str], *, signature: str | None = None, route: bool = True
    ) -> ClientResponse:
        """Post a webhook; then, unless ``route`` is False, route what it accepted as the intake worker would."""
        url = self.settings.sms.public_base_url + path
        signed = self.twilio.sign(url, params) if signature is None else signature
        client = self._clients[0] if self._clients else await self._raw_client()
        response = await client.post(path, data=params, headers={"X-Twilio-Signature": signed} if signed else {})
        if route:
            await self.route_intake()
        return response

    async def route_intake(self) -> int:
        """Run the intake worker's routing once (workers do not run by themselves here), as it would just after."""
        return await self.helpline.intake.route_waiting(1000)

    async def _raw_client(self) -> TestClient[Any, Any]:
        client: TestClient[Any, Any] = TestClient(self.server)
        await client.start_server()
        self._clients.append(client)
        return client

    async def send_outbox(self) -> int:
        """Run the outbound worker once."""
        return await self.helpline.outbound.run_once()

    @property
    def db(self) -> DirectDb:
        """The database itself, read and altered directly, as an attacker with a copy would."""
        return DirectDb.of(self.settings)

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read the database directly, as an attacker with a copy would."""
        return self.db.rows(sql, params)

    async def close(self) -> None:
        for client in self._clients:
            await client.close()
        await self.server.close()


@pytest.fixture
async def harness(
    settings: Settings, clock: FakeClock, fake_twilio: FakeTwilio, data_dir: Path, port: int
) -> AsyncIterator[Harness]:
    running = await Harness.serving(build(settings, clock), fake_twilio, clock, data_dir, port)
    yield running
    await running.close()


@dataclass
class Served:
    """The real server as `helpline serve` runs it (its site, deadlines and headers), on 127.0.0.1."""

    helpline: Helpline
    host: str
    port: int

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A raw TCP connection to the server, for requests no HTTP client would send."""
        return await asyncio.open_connection(self.host, self.port)


@pytest.fixture
async def served(settings: Settings, clock: FakeClock) -> AsyncIterator[Served]:
    helpline = build(settings, clock)
    server = settings.server
    runner = await serving.start(
        build_app(helpline, run_workers=False), "127.0.0.1", server.port, header_timeout=server.header_timeout_seconds
    )
    try:
        yield Served(helpline, "127.0.0.1", server.port)
    finally:
        await runner.cleanup()
