"""Timed work with three real ``helpline serve`` processes on one PostgreSQL database: every instance runs every
timer, and each piece of due work — an escalation's re-alert and its on-call text, a purge batch — is done once."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from helpline.testing.twilio_api import FakeTwilio
from tests.test_instances import Cluster, eventually

pytestmark = [pytest.mark.postgres_only, pytest.mark.timeout(240)]
ONCALL = "+447700900555"
ACK_SECONDS = 2


@pytest.fixture
async def three(
    data_dir: Path, database_url: str, fake_twilio: FakeTwilio, unused_tcp_port_factory: Callable[[], int]
) -> AsyncIterator[Cluster]:
    cluster = Cluster(data_dir, database_url, fake_twilio, [unused_tcp_port_factory() for _ in range(3)])
    timers = {
        "HELPLINE_SAFEGUARDING__ONCALL_CHANNEL": "sms",
        "HELPLINE_SAFEGUARDING__ONCALL_ADDRESS": ONCALL,
        "HELPLINE_SAFEGUARDING__ACK_SECONDS": str(ACK_SECONDS),
        "HELPLINE_RETENTION__PURGE_INTERVAL_MINUTES": "0.01",
        "HELPLINE_RETENTION__PURGE_BATCH_SIZE": "1",
    }
    cluster.env = {**cluster.env, **timers}
    for server in cluster.servers:
        server.env = {**server.env, **timers}
    try:
        await cluster.start()
        yield cluster
    finally:
        await cluster.close()


async def test_an_unacknowledged_escalation_is_realerted_once_a_round_and_oncall_texted_once(three: Cluster) -> None:
    """With three instances' safeguarding timers running, re-alerts come one per ``ack_seconds``, never one per
    instance, and the on-call supervisor gets one text."""
    a, b, c = three.servers
    assert await three.text(a, "+447700900123", "I need help") == 200
    ben = await three.console(b, "ben")
    assert (await ben.post("/api/me/availability", {"availability": "available"}))[0] == 200
    status, taken = await ben.post("/api/queue/take")
    assert status == 200, taken
    flag = {"category": "abuse", "level": "concern", "note": "said someone at home hurts them"}
    status, raised = await ben.post(f"/api/conversations/{taken['id']}/flag", flag)
    assert status == 201, raised
    supervisor = await three.console(c, "sam", "supervisor")
    socket = await supervisor.socket()

    async def realerted_three_times() -> bool:
        count = await three.value("SELECT COUNT(*) FROM audit WHERE action = 'escalation.realerted'")
        return bool(count >= 3)

    await eventually(realerted_three_times)
    times = await three.value(
        "SELECT array_agg(at ORDER BY seq) FROM audit WHERE action = 'escalation.realerted' AND object_id = $1",
        raised["escalation_id"],
    )
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(times)]
    assert all(gap >= ACK_SECONDS - 0.1 for gap in gaps), gaps  # one per round, whichever instance made it
    await eventually(lambda: _oncall_texts(three.twilio, at_least=1))
    assert await three.value("SELECT COUNT(*) FROM staff_notifications") == 1
    assert len([m for m in three.twilio.created if m["To"] == ONCALL]) == 1
    await socket.close()


async def _oncall_texts(twilio: FakeTwilio, *, at_least: int) -> bool:
    return len([m for m in twilio.created if m["To"] == ONCALL]) >= at_least


async def test_purge_batches_are_each_taken_by_one_instance(three: Cluster) -> None:
    """Closed conversations past retention are purged in batches of one by three instances at once: each
    conversation is shredded and audited once, and the audit chain stays whole."""
    a, b, c = three.servers
    for n, server in enumerate((a, b, c, a, b, c)):
        assert await three.text(server, f"+44770090{n:04d}", f"text {n}") == 200
    await three.value(
        "UPDATE conversations SET status = 'closed', closed_at = now() - interval '40 days',"
        " assignee_id = NULL RETURNING 1"
    )

    async def all_purged() -> bool:
        return bool(await three.value("SELECT COUNT(*) FROM conversations WHERE data_key IS NOT NULL") == 0)

    await eventually(all_purged)
    # Counted whether or not the servers have linked each entry into the chain yet.
    purged = await three.value(
        "SELECT array_agg(n) FROM (SELECT COUNT(*) AS n FROM (SELECT object_id, action FROM audit"
        " UNION ALL SELECT object_id, action FROM audit_pending) AS entries WHERE action = 'conversation.purged'"
        " GROUP BY object_id) AS counts"
    )
    assert sorted(purged) == [1] * 6
