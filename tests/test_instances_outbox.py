"""The outbox with several real ``helpline serve`` processes on one PostgreSQL database: a send in flight at one
instance is left alone by another that starts meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from helpline.testing.twilio_api import FakeTwilio
from tests.instances import Console
from tests.test_instances import Cluster, eventually

pytestmark = [pytest.mark.postgres_only, pytest.mark.timeout(240)]


def posts(twilio: FakeTwilio) -> int:
    """Messages create requests Twilio has received, answered or not."""
    return sum(1 for method, path in twilio.requests if method == "POST" and path.endswith("/Messages.json"))


async def test_an_instance_starting_does_not_take_another_live_instances_send_in_flight(
    data_dir: Path, database_url: str, fake_twilio: FakeTwilio, unused_tcp_port_factory: Callable[[], int]
) -> None:
    """A is mid-send (Twilio has not answered) when B starts: B's start-up pass leaves that reply alone, so it
    is not sent a second time; B sends what is new."""
    cluster = Cluster(data_dir, database_url, fake_twilio, [unused_tcp_port_factory() for _ in range(2)])
    a, b = cluster.servers
    try:
        await a.start()
        assert await cluster.text(a, "+447700900123", "I need to talk") == 200
        amira = await cluster.console(a, "amira")
        assert (await amira.post("/api/me/availability", {"availability": "available"}))[0] == 200
        status, taken = await amira.post("/api/queue/take")
        assert status == 200, taken

        async def nothing_waiting() -> bool:
            return bool(await cluster.value("SELECT COUNT(*) FROM outbox WHERE state <> 'done'") == 0)

        await eventually(nothing_waiting)  # the greeting is out
        before = posts(fake_twilio)
        fake_twilio.stall_next()
        path = f"/api/conversations/{taken['id']}/messages"
        assert (await amira.post(path, {"body": "are you safe right now?"}))[0] == 201
        await fake_twilio.stalled(1)  # A has called Twilio and waits for its answer
        assert await cluster.value("SELECT state FROM outbox WHERE state <> 'done'") == "sending"

        await b.start()
        a.kill()  # from now on only B could send anything: what it sends is its own doing

        async def b_sent_a_new_reply() -> bool:
            bodies = [m["Body"] for m in fake_twilio.created]
            return "still here" in bodies

        amira_at_b = await Console.sign_in(b, "amira")
        cluster.consoles.append(amira_at_b)
        assert (await amira_at_b.post(path, {"body": "still here"}))[0] == 201
        await eventually(b_sent_a_new_reply)  # B's outbound worker is past its start-up pass
        assert posts(fake_twilio) == before + 2  # the stalled one once, the new one once
        assert "are you safe right now?" not in [m["Body"] for m in fake_twilio.created]
        assert await cluster.value("SELECT COUNT(*) FROM outbox WHERE state = 'sending'") == 1
    finally:
        await cluster.close()
