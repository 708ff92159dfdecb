"""The database restarts under a running server: requests answer a clean 503, and the server recovers by itself."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import ClientResponse

from helpline.app import build
from helpline.settings import Settings
from helpline.store.postgres.database import PostgresStore
from helpline.testing.twilio_api import FakeTwilio
from tests.conftest import HELPLINE_NUMBER, FakeClock, Harness
from tests.private_cluster import PrivateCluster

pytestmark = [pytest.mark.postgres_only, pytest.mark.timeout(300)]


@pytest.fixture
async def cluster(unused_tcp_port_factory: Callable[[], int]) -> AsyncIterator[PrivateCluster]:
    # Directly under /tmp: the cluster's owner must reach its directory, and pytest's own tmp dirs are private.
    own = PrivateCluster(Path(tempfile.mkdtemp(prefix="helpline-cluster-")), unused_tcp_port_factory())
    await asyncio.to_thread(own.create)
    await asyncio.to_thread(own.start)
    yield own
    await asyncio.to_thread(own.remove)


@pytest.fixture
async def on_cluster(
    cluster: PrivateCluster, settings: Settings, clock: FakeClock, fake_twilio: FakeTwilio, data_dir: Path, port: int
) -> AsyncIterator[Harness]:
    """A running server on the private cluster's database."""
    await PostgresStore(cluster.url, clock).migrate()
    helpline = build(settings.replace("storage", database_url=cluster.url, pool_min=2, pool_max=4), clock)
    running = await Harness.serving(helpline, fake_twilio, clock, data_dir, port)
    yield running
    await running.close()


async def assert_clean(response: ClientResponse) -> None:
    """A 200, or a 503 that says what happened and names the request, never a traceback or a 500."""
    body = await response.text()
    assert response.status in (200, 503), body
    assert "Traceback" not in body and "asyncpg" not in body
    if response.status == 503:
        data = await response.json()
        assert data["request_id"] == response.headers["X-Request-Id"]
        assert data["request_id"] in data["error"] and "unavailable" in data["error"]


async def test_database_restart_gives_503_then_recovers(on_cluster: Harness, cluster: PrivateCluster) -> None:
    """Stopped: requests in flight and after answer 503 with a request id; started again: the server answers 200."""
    amira = await on_cluster.console("amira")
    assert (await amira.get("/api/queue")).status == 200

    async def keep_asking() -> list[int]:
        """Ask without pause while the database stops, until a request finds it gone."""
        statuses: list[int] = []
        while 503 not in statuses and len(statuses) < 5000:
            response = await amira.get("/api/queue")
            await assert_clean(response)
            statuses.append(response.status)
        return statuses

    in_flight = asyncio.create_task(keep_asking())
    await asyncio.to_thread(cluster.stop)
    statuses = await in_flight
    stopped = await amira.get("/api/queue")
    await assert_clean(stopped)
    assert stopped.status == 503 and 503 in statuses
    webhook = on_cluster.twilio.inbound_sms_params("+447700900123", HELPLINE_NUMBER, "hello")
    await assert_clean(await on_cluster.post_webhook("/webhooks/twilio/sms", webhook, route=False))
    assert (await amira.get("/readyz")).status == 503

    await asyncio.to_thread(cluster.start)
    answers = []
    for _ in range(10):  # a pooled connection from before the restart fails once; the pool replaces it
        response = await amira.get("/api/queue")
        await assert_clean(response)
        answers.append(response.status)
        if response.status == 200:
            break
    assert answers[-1] == 200
    assert (await amira.get("/readyz")).status == 200
    assert (await on_cluster.text("+447700900124", "back again")).status == 200
    assert len(await amira.queue()) >= 1
