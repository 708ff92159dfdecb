"""Safeguarding flags: supervisors alerted live, the states in order, timers that re-alert and call the on-call."""

from __future__ import annotations

import pytest

from helpline.settings import Settings
from tests.conftest import Console, Harness
from tests.test_console_live import connect, events_until, receive

ONCALL = "+447700900555"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace("safeguarding", oncall_channel="sms", oncall_address=ONCALL, ack_seconds=120)


async def flagged(harness: Harness, level: str = "significant_harm") -> tuple[Console, str, str]:
    await harness.text("+447700900123", "he said he will hurt me")
    amira = await harness.console("amira")
    conversation = (await (await amira.post("/api/queue/take")).json())["id"]
    response = await amira.post(
        f"/api/conversations/{conversation}/flag", {"category": "abuse", "level": level, "note": "CANARYFLAG"}
    )
    assert response.status == 201, await response.text()
    return amira, conversation, (await response.json())["escalation_id"]


async def test_supervisor_is_alerted_live_and_moves_it_through_its_states(harness: Harness) -> None:
    """A flag reaches a supervisor's socket at once; acknowledge → decide → close, each audited."""
    sam = await harness.console("sam", role="supervisor")
    socket = await connect(sam)
    await receive(socket)
    _, conversation, escalation = await flagged(harness)
    raised = (await events_until(socket, "escalation.raised"))[-1]
    assert raised["escalation_id"] == escalation and raised["level"] == "significant_harm"
    listed = (await (await sam.get("/api/escalations")).json())["escalations"]
    assert [(e["id"], e["state"], e["note"], e["raised_by"]) for e in listed] == [
        (escalation, "raised", "CANARYFLAG", "amira")
    ]
    base = f"/api/escalations/{escalation}"
    assert (await sam.post(f"{base}/acknowledge")).status == 200
    assert (await sam.post(f"{base}/decide", {"decision": "referred", "note": "police informed"})).status == 200
    assert (await sam.post(f"{base}/close")).status == 200
    [history] = (await (await sam.get(f"/api/conversations/{conversation}/escalations")).json())["escalations"]
    assert history["state"] == "closed" and history["decision"] == "referred"
    assert history["acknowledged_by"] == history["decided_by"] == "sam"
    [summary] = (await sam.conversation(conversation))["escalations"]
    assert summary["state"] == "closed" and "note" not in summary
    actions = [row[0] for row in harness.rows("SELECT action FROM audit WHERE action LIKE 'escalation.%' ORDER BY seq")]
    assert actions == ["escalation.raised", "escalation.acknowledged", "escalation.decided", "escalation.closed"]
    assert b"CANARYFLAG" not in harness.db.stored_bytes()
    await socket.close()


async def test_unacknowledged_escalation_realerts_and_notifies_oncall(harness: Harness) -> None:
    """After ack_seconds, every supervisor is alerted again and the on-call supervisor gets an SMS, once."""
    sam = await harness.console("sam", role="supervisor")
    await flagged(harness)
    socket = await connect(sam)
    await receive(socket)
    assert await harness.helpline.safeguarding.run_once() == (0, 0)
    harness.clock.advance(seconds=121)
    assert await harness.helpline.safeguarding.run_once() == (1, 1)
    assert (await events_until(socket, "escalation.alert"))[-1]["event"] == "escalation.alert"
    [sms] = [m for m in harness.twilio.created if m["To"] == ONCALL]
    assert "escalation" in sms["Body"] and "he said" not in sms["Body"]
    harness.clock.advance(seconds=121)
    assert await harness.helpline.safeguarding.run_once() == (1, 0)  # alerted again; on-call told once only
    assert len([m for m in harness.twilio.created if m["To"] == ONCALL]) == 1
    await socket.close()


async def test_immediate_danger_notifies_oncall_at_once(harness: Harness) -> None:
    """An immediate-danger flag starts with the on-call notification."""
    await flagged(harness, level="immediate_danger")
    assert await harness.helpline.safeguarding.run_once() == (0, 1)
    [sms] = [m for m in harness.twilio.created if m["To"] == ONCALL]
    assert "IMMEDIATE DANGER" in sms["Body"]


async def test_acknowledged_escalation_does_not_realert(harness: Harness) -> None:
    """Once acknowledged, the timer leaves it alone."""
    sam = await harness.console("sam", role="supervisor")
    _, _, escalation = await flagged(harness)
    await sam.post(f"/api/escalations/{escalation}/acknowledge")
    harness.clock.advance(minutes=30)
    sam = await harness.console("sam2", role="supervisor")
    assert await harness.helpline.safeguarding.run_once() == (0, 0)


async def test_volunteers_get_403_on_every_escalation_endpoint(harness: Harness) -> None:
    """Volunteers can raise flags but cannot act on escalations, nor see any but those of what they hold."""
    amira, conversation, escalation = await flagged(harness)
    for path in ("/api/escalations", "/api/disclosures"):
        assert (await amira.get(path)).status == 403, path
    ben = await harness.console("ben")
    assert (await ben.get(f"/api/conversations/{conversation}/escalations")).status == 403
    for path, body in (
        (f"/api/escalations/{escalation}/acknowledge", {}),
        (f"/api/escalations/{escalation}/decide", {"decision": "referred", "note": ""}),
        (f"/api/escalations/{escalation}/close", {}),
        (f"/api/conversations/{conversation}/disclosures", {"reason": "x" * 40}),
        (f"/api/conversations/{conversation}/join", {}),
        (f"/api/conversations/{conversation}/whisper", {"body": "hi"}),
    ):
        assert (await amira.post(path, body)).status == 403, path


async def test_bad_flags_and_transitions(harness: Harness) -> None:
    """Flags on closed conversations, unknown levels, double acknowledgements: clear errors, no partial state."""
    amira, conversation, escalation = await flagged(harness)
    path = f"/api/conversations/{conversation}/flag"
    assert (await amira.post(path, {"category": "abuse", "level": "mild", "note": ""})).status == 400
    assert (await amira.post(path, {"category": "aliens", "level": "concern", "note": ""})).status == 400
    sam = await harness.console("sam", role="supervisor")
    base = f"/api/escalations/{escalation}"
    assert (await sam.post(f"{base}/close")).status == 409
    assert (await sam.post(f"{base}/acknowledge")).status == 200
    again = await sam.post(f"{base}/acknowledge")
    assert again.status == 409 and (await again.json())["error"] == "This escalation was already acknowledged by sam."
    assert (await sam.post(f"{base}/decide", {"decision": "shrug", "note": ""})).status == 400
    await amira.post(f"/api/conversations/{conversation}/close", {"outcome": "advice"})
    closed = await amira.post(path, {"category": "abuse", "level": "concern", "note": ""})
    assert closed.status == 409
    assert harness.rows("SELECT COUNT(*) FROM escalations") == [(1,)]
