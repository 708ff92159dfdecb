"""Web chat, blocks and canned responses across real ``helpline serve`` processes on one PostgreSQL database: a
contact's chat socket at one instance, the volunteer's console at another."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from helpline.testing.twilio_api import FakeTwilio
from tests.instances import Console
from tests.test_instances import Cluster, Contact, frame_where

pytestmark = [pytest.mark.postgres_only, pytest.mark.timeout(240)]
TIMEOUT = 20
# Short enough to see an idle warning within a test, long enough that a volunteer writing every second keeps it off.
IDLE = {"HELPLINE_WEBCHAT__IDLE_TIMEOUT_SECONDS": "8", "HELPLINE_WEBCHAT__IDLE_WARNING_SECONDS": "5"}


@pytest.fixture
async def two(
    data_dir: Path, database_url: str, fake_twilio: FakeTwilio, unused_tcp_port_factory: Callable[[], int]
) -> AsyncIterator[Cluster]:
    cluster = Cluster(data_dir, database_url, fake_twilio, [unused_tcp_port_factory() for _ in range(2)])
    cluster.env = {**cluster.env, **IDLE}
    for server in cluster.servers:
        server.env = {**server.env, **IDLE}
    try:
        await cluster.start()
        yield cluster
    finally:
        await cluster.close()


async def post_empty(console: Console, path: str, payload: dict[str, Any]) -> int:
    """A console POST answered with no body (204)."""
    headers = {"X-CSRF-Token": console.csrf}
    async with console.session.post(f"{console.server.url}{path}", json=payload, headers=headers) as response:
        return response.status


async def volunteer_at(cluster: Cluster, server: Any, name: str) -> tuple[Console, aiohttp.ClientWebSocketResponse]:
    console = await cluster.console(server, name)
    assert (await console.post("/api/me/availability", {"availability": "available"}))[0] == 200
    socket = await console.socket()
    await frame_where(socket, lambda f: f["type"] == "hello")
    return console, socket


async def test_queue_places_typing_and_leaving_cross_between_a_chat_at_one_instance_and_a_volunteer_at_another(
    two: Cluster,
) -> None:
    """Chats at A learn their place as a volunteer at B takes the one ahead; each side sees the other typing; the
    volunteer at B hears that the contact at A left."""
    a, b = two.servers
    first, second = Contact(two.public_url), Contact(two.public_url)
    try:
        await first.connect(a)
        await first.say("first in line")
        await second.connect(a)
        await second.say("second in line")
        assert (await second.next(lambda f: f["type"] == "queue"))["position"] == 2
        ben, socket = await volunteer_at(two, b, "ben")
        status, taken = await ben.post("/api/queue/take")
        assert status == 200, taken
        assert (await second.next(lambda f: f["type"] == "queue"))["position"] == 1
        await first.next(lambda f: f["type"] == "status" and f.get("state") == "active")

        assert await post_empty(ben, f"/api/conversations/{taken['id']}/typing", {"active": True}) == 204
        assert (await first.next(lambda f: f["type"] == "typing"))["active"] is True
        assert first.socket is not None
        await first.socket.send_json({"type": "typing", "active": True})
        typing = await frame_where(socket, lambda f: f.get("event") == "contact.typing")
        assert typing["conversation_id"] == taken["id"] and typing["active"] is True

        await first.socket.send_json({"type": "end", "reason": "ended"})
        left = await frame_where(socket, lambda f: f.get("event") == "contact.left")
        assert left["conversation_id"] == taken["id"] and left["reason"] == "ended"
    finally:
        await first.close()
        await second.close()


async def test_a_volunteer_writing_from_another_instance_keeps_the_chat_from_idling_then_it_is_warned(
    two: Cluster,
) -> None:
    """Replies written at B restart the idle timer of the chat held at A whichever outbox sends them; once they
    stop, the contact at A is warned it is idle."""
    a, b = two.servers
    contact = Contact(two.public_url)
    try:
        await contact.connect(a)
        await contact.say("are you there")
        ben, _ = await volunteer_at(two, b, "ben")
        status, taken = await ben.post("/api/queue/take")
        assert status == 200, taken
        warned: list[dict[str, Any]] = []

        async def listen() -> None:
            warned.append(await contact.next(lambda f: f["type"] in ("idle_warning", "ended")))

        listening = asyncio.create_task(listen())
        for n in range(8):  # past the idle timeout, one a second: each keeps the chat going
            assert (await ben.post(f"/api/conversations/{taken['id']}/messages", {"body": f"reply {n}"}))[0] == 201
            await asyncio.sleep(1)  # a volunteer's pace, on real servers
        assert warned == [], warned
        async with asyncio.timeout(TIMEOUT):
            await listening
        assert warned[0]["type"] == "idle_warning"
        assert [f"reply {n}" for n in range(8)] == contact.bodies("volunteer")
    finally:
        await contact.close()


async def test_a_block_and_a_canned_response_saved_at_one_instance_are_in_force_at_another(two: Cluster) -> None:
    """A sender blocked at A is dropped at B; a canned response an admin saves at A is offered at B."""
    a, b = two.servers
    assert await two.text(a, "+447700900123", "first") == 200
    amira, _ = await volunteer_at(two, a, "amira")
    status, taken = await amira.post("/api/queue/take")
    assert status == 200, taken
    status, _ = await amira.post(f"/api/conversations/{taken['id']}/block", {"reason": "abusive", "days": 7})
    assert status == 200
    assert await two.text(b, "+447700900123", "again, at B") == 200
    stored = await two.value("SELECT COUNT(*) FROM messages WHERE direction = 'in'")
    assert stored == 1

    admin = await two.console(a, "ada", "admin")
    status, saved = await admin.post(
        "/api/admin/canned", {"code": "safe-now", "title": "Safe now?", "body": "Are you somewhere safe right now?"}
    )
    assert status in (200, 201), saved
    ben = await two.console(b, "ben")
    status, offered = await ben.get("/api/canned")
    assert status == 200
    assert "safe-now" in json.dumps(offered)
