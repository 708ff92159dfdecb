"""Supervisors monitor, join and whisper — each audited; whispers never reach the contact."""

from __future__ import annotations

from tests.conftest import Harness


async def test_monitoring_is_audited_once_per_half_hour(harness: Harness) -> None:
    """Reading someone else's conversation is audited, without an entry for every refresh."""
    await harness.text("+447700900123", "hello")
    amira = await harness.console("amira")
    conversation = (await (await amira.post("/api/queue/take")).json())["id"]
    sam = await harness.console("sam", role="supervisor")
    for _ in range(3):
        await sam.conversation(conversation)
    assert harness.rows("SELECT COUNT(*) FROM audit WHERE action = 'conversation.viewed'") == [(1,)]
    harness.clock.advance(minutes=31)
    sam = await harness.console("sam2", role="supervisor")
    await sam.conversation(conversation)
    assert harness.rows("SELECT COUNT(*) FROM audit WHERE action = 'conversation.viewed'") == [(2,)]


async def test_join_then_write_to_the_contact(harness: Harness) -> None:
    """A supervisor who joined can reply to the contact; before joining they cannot."""
    await harness.text("+447700900123", "hello")
    amira = await harness.console("amira")
    conversation = (await (await amira.post("/api/queue/take")).json())["id"]
    sam = await harness.console("sam", role="supervisor")
    path = f"/api/conversations/{conversation}/messages"
    assert (await sam.post(path, {"body": "Supervisor here"})).status == 409
    assert (await sam.conversation(conversation))["joined"] is False
    assert (await sam.post(f"/api/conversations/{conversation}/join")).status == 200
    assert (await sam.post(f"/api/conversations/{conversation}/join")).status == 200  # joining twice is harmless
    assert (await sam.conversation(conversation))["joined"] is True
    assert (await sam.post(path, {"body": "Supervisor here"})).status == 201
    await harness.send_outbox()
    assert "Supervisor here" in [m["Body"] for m in harness.twilio.created]
    assert harness.rows("SELECT COUNT(*) FROM audit WHERE action = 'conversation.joined'") == [(1,)]


async def test_whisper_reaches_the_volunteer_only(harness: Harness) -> None:
    """A whisper shows in the volunteer's console and is never sent to the contact or stored in plaintext."""
    await harness.text("+447700900123", "hello")
    amira = await harness.console("amira")
    conversation = (await (await amira.post("/api/queue/take")).json())["id"]
    sam = await harness.console("sam", role="supervisor")
    response = await sam.post(f"/api/conversations/{conversation}/whisper", {"body": "CANARYWHISPER ask about school"})
    assert response.status == 201
    view = await amira.conversation(conversation)
    assert [(w["author"], w["body"]) for w in view["whispers"]] == [("sam", "CANARYWHISPER ask about school")]
    await harness.send_outbox()
    assert all("CANARYWHISPER" not in m["Body"] for m in harness.twilio.created)
    assert b"CANARYWHISPER" not in harness.db.stored_bytes()
    assert harness.rows("SELECT COUNT(*) FROM audit WHERE action = 'conversation.whispered'") == [(1,)]
    assert (await sam.post(f"/api/conversations/{conversation}/whisper", {"body": " "})).status == 400
