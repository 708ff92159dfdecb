"""A console that loses its socket resumes after the last event it saw, at whichever instance it reaches next.

Real ``helpline serve`` processes on one PostgreSQL database; what the console should have been sent is read
from the ``events`` table itself.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from helpline.testing.twilio_api import FakeTwilio
from tests.test_instances import Cluster, frame_where

pytestmark = [pytest.mark.postgres_only, pytest.mark.timeout(240)]
TIMEOUT = 20


@pytest.fixture
def cluster_of(
    data_dir: Path, database_url: str, fake_twilio: FakeTwilio, unused_tcp_port_factory: Callable[[], int]
) -> Callable[[int], Cluster]:
    def make(count: int) -> Cluster:
        return Cluster(data_dir, database_url, fake_twilio, [unused_tcp_port_factory() for _ in range(count)])

    return make


@pytest.fixture
async def pair(cluster_of: Callable[[int], Cluster]) -> AsyncIterator[Cluster]:
    """Two instances, not started: each test starts them when it needs them."""
    cluster = cluster_of(2)
    try:
        yield cluster
    finally:
        await cluster.close()


async def event_frames_until_closed(socket: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]]:
    """Every event frame with an id a socket is sent until its server closes it."""
    frames = []
    async with asyncio.timeout(TIMEOUT):
        async for message in socket:
            if message.type == aiohttp.WSMsgType.TEXT:
                frame = json.loads(message.data)
                if frame["type"] == "event" and "id" in frame:
                    frames.append(frame)
    return frames


async def event_frames_until(socket: aiohttp.ClientWebSocketResponse, last_id: str) -> list[dict[str, Any]]:
    """Event frames with an id, until the one with ``last_id``."""
    frames: list[dict[str, Any]] = []
    while not frames or frames[-1]["id"] != last_id:
        frames.append(await frame_where(socket, lambda f: f["type"] == "event" and "id" in f))
    return frames


async def recorded_after(cluster: Cluster, last: str) -> list[str]:
    """The ids of the events recorded after ``last`` whose transactions have all ended, in order."""
    xid, _, row = last.partition(".")
    conn = await asyncpg.connect(cluster.database_url)
    try:
        rows = await conn.fetch(
            "SELECT xid::text || '.' || id AS token FROM events WHERE (xid, id) > ($1::text::xid8, $2::bigint)"
            " AND xid < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY xid, id",
            xid,
            int(row),
        )
    finally:
        await conn.close()
    return [r["token"] for r in rows]


async def settle(cluster: Cluster, last: str, at_least: int) -> list[str]:
    """The recorded ids after ``last`` once there are ``at_least`` of them and none came for a moment."""
    async with asyncio.timeout(TIMEOUT):
        before: list[str] = []
        while True:
            now = await recorded_after(cluster, last)
            if len(now) >= at_least and now == before:
                return now
            before = now
            await asyncio.sleep(0.5)  # another process's work: nothing here to wait on


async def test_a_console_at_a_stopped_instance_resumes_at_another_with_exactly_the_events_it_missed(
    pair: Cluster,
) -> None:
    """A console's socket at A; A stops; texts arrive at B; the console resumes at B from its last id and is sent
    exactly the events recorded after it, each once, in order, and reloads nothing."""
    await pair.start()
    a, b = pair.servers
    amira = await pair.console(a, "amira")
    socket = await amira.socket()
    await frame_where(socket, lambda f: f["type"] == "hello")
    assert await pair.text(a, "+447700900123", "one") == 200
    await frame_where(socket, lambda f: f.get("event") == "message.added")
    await a.stop()
    seen = await event_frames_until_closed(socket)
    last = seen[-1]["id"]

    assert await pair.text(b, "+447700900123", "two") == 200
    assert await pair.text(b, "+447700900456", "three") == 200
    missed = await settle(pair, last, at_least=3)
    resumed = await amira.socket(b, last=last)
    hello = await frame_where(resumed, lambda f: f["type"] == "hello")
    assert hello["resumed"] is True
    frames = await event_frames_until(resumed, missed[-1])
    assert [f["id"] for f in frames] == missed
    assert {f["event"] for f in frames} >= {"message.added", "conversation.opened"}


async def test_a_console_resuming_at_an_instance_started_after_its_last_event_is_sent_the_rest_from_the_table(
    pair: Cluster,
) -> None:
    """B started after the console's last event, so holds none of it in memory: what followed comes from the
    events table, then B's own, with nothing missing or twice."""
    a, b = pair.servers
    await a.start()
    amira = await pair.console(a, "amira")
    socket = await amira.socket()
    await frame_where(socket, lambda f: f["type"] == "hello")
    assert await pair.text(a, "+447700900123", "one") == 200
    first = await frame_where(socket, lambda f: f.get("event") == "conversation.opened")
    assert await pair.text(a, "+447700900456", "two") == 200  # recorded after ``first``, before B starts
    other = first["conversation_id"]
    await frame_where(socket, lambda f: f.get("event") == "message.added" and f["conversation_id"] != other)
    await b.start()
    assert await pair.text(b, "+447700900789", "three") == 200
    missed = await settle(pair, first["id"], at_least=4)

    resumed = await amira.socket(b, last=first["id"])
    hello = await frame_where(resumed, lambda f: f["type"] == "hello")
    assert hello["resumed"] is True
    frames = await event_frames_until(resumed, missed[-1])
    assert [f["id"] for f in frames] == missed
    assert any(f.get("replay") is True for f in frames)  # from the table, not from B's memory


async def test_a_console_whose_last_event_was_trimmed_is_told_to_reload(pair: Cluster) -> None:
    """Once the events after a console's last id are trimmed from the table, resuming gets a plain hello."""
    a, b = pair.servers
    await a.start()
    amira = await pair.console(a, "amira")
    socket = await amira.socket()
    await frame_where(socket, lambda f: f["type"] == "hello")
    assert await pair.text(a, "+447700900123", "one") == 200
    first = await frame_where(socket, lambda f: f.get("event") == "conversation.opened")
    await b.start()
    await settle(pair, first["id"], at_least=1)
    xid, _, row = first["id"].partition(".")
    conn = await asyncpg.connect(pair.database_url)
    try:  # as the hourly trim does to rows a day old
        await conn.execute("DELETE FROM events WHERE (xid, id) <= ($1::text::xid8, $2::bigint)", xid, int(row))
    finally:
        await conn.close()

    resumed = await amira.socket(b, last=first["id"])
    hello = await frame_where(resumed, lambda f: f["type"] == "hello")
    assert "resumed" not in hello and isinstance(hello["last"], str)
