"""Availability, capacity, Take next, transfers with handover notes, and the supervisors' floor view."""

from __future__ import annotations

from tests.conftest import Harness


async def waiting_ids(harness: Harness, count: int) -> list[str]:
    for n in range(count):
        await harness.text(f"+4477009001{n:02d}", f"hello {n}")
        harness.clock.advance(seconds=10)
    viewer = await harness.console(f"viewer{count}")
    return [c["id"] for c in await viewer.queue()]


async def test_take_next_gives_the_longest_waiting(harness: Harness) -> None:
    """Take next assigns the conversation that has waited longest (at equal priority)."""
    ids = await waiting_ids(harness, 3)
    amira = await harness.console("amira")
    taken = await amira.post("/api/queue/take")
    assert taken.status == 200
    assert (await taken.json())["id"] == ids[0]


async def test_take_next_prefers_higher_priority(harness: Harness) -> None:
    """A later conversation with a higher risk band is offered first."""
    ids = await waiting_ids(harness, 2)
    harness.db.execute("UPDATE conversations SET priority = 3 WHERE id = ?", (ids[1],))
    amira = await harness.console("amira")
    assert (await (await amira.post("/api/queue/take")).json())["id"] == ids[1]


async def test_capacity_is_enforced(harness: Harness) -> None:
    """A volunteer at max_concurrent can neither take nor claim another conversation."""
    limit = harness.settings.routing.max_concurrent
    ids = await waiting_ids(harness, limit + 1)
    amira = await harness.console("amira")
    for _ in range(limit):
        assert (await amira.post("/api/queue/take")).status == 200
    refused = await amira.post("/api/queue/take")
    assert refused.status == 409
    assert str(limit) in (await refused.json())["error"]
    assert (await amira.post(f"/api/conversations/{ids[-1]}/claim")).status == 409
    queue = await amira.get("/api/queue")
    assert (await queue.json())["holding"] == limit


async def test_take_next_needs_availability_and_someone_waiting(harness: Harness) -> None:
    """Away volunteers are not given conversations; an empty queue is a clear 404."""
    amira = await harness.console("amira")
    assert (await amira.post("/api/queue/take")).status == 404
    await amira.post("/api/me/availability", {"availability": "away"})
    await harness.text("+447700900123", "hello")
    assert (await amira.post("/api/queue/take")).status == 409
    assert (await amira.post("/api/me/availability", {"availability": "sleeping"})).status == 400


async def test_transfer_to_a_colleague_with_a_handover_note(harness: Harness) -> None:
    """The colleague holds it next and sees the handover note first; it is never sent to the contact."""
    [conversation] = await waiting_ids(harness, 1)
    amira = await harness.console("amira")
    ben = await harness.console("ben", live=True)
    await amira.post(f"/api/conversations/{conversation}/claim")
    response = await amira.post(
        f"/api/conversations/{conversation}/transfer", {"to": "ben", "note": "She is safe tonight; ask about school"}
    )
    assert response.status == 200
    view = await ben.conversation(conversation)
    assert view["assignee"] == "ben"
    assert view["handover"]["note"] == "She is safe tonight; ask about school"
    assert view["handover"]["from"] == "amira"
    assert (await amira.get(f"/api/conversations/{conversation}")).status == 403
    await harness.send_outbox()
    assert all("safe tonight" not in m["Body"] for m in harness.twilio.created)
    assert b"safe tonight" not in harness.db.stored_bytes()


async def test_transfer_back_to_the_queue(harness: Harness) -> None:
    """Transferring to nobody puts the conversation back in the queue for anyone."""
    [conversation] = await waiting_ids(harness, 1)
    amira = await harness.console("amira")
    await amira.post(f"/api/conversations/{conversation}/claim")
    response = await amira.post(f"/api/conversations/{conversation}/transfer", {"to": None, "note": "shift ended"})
    assert (await response.json())["status"] == "waiting"
    ben = await harness.console("ben")
    assert (await ben.post("/api/queue/take")).status == 200


async def test_transfer_refusals(harness: Harness) -> None:
    """Transfers to someone away, full or unknown, or by someone else, are refused and change nothing."""
    [conversation] = await waiting_ids(harness, 1)
    amira = await harness.console("amira")
    ben = await harness.console("ben")
    await amira.post(f"/api/conversations/{conversation}/claim")
    await ben.post("/api/me/availability", {"availability": "away"})
    path = f"/api/conversations/{conversation}/transfer"
    assert (await amira.post(path, {"to": "ben", "note": ""})).status == 409
    assert (await amira.post(path, {"to": "nobody", "note": ""})).status == 400
    assert (await amira.post(path, {"to": "amira", "note": ""})).status == 400
    assert (await ben.post(path, {"to": None, "note": ""})).status == 403
    assert (await amira.post(path, {"to": 5, "note": ""})).status == 400
    assert (await amira.conversation(conversation))["assignee"] == "amira"


async def test_floor_view_counts_only(harness: Harness) -> None:
    """Supervisors see counts and who holds what; volunteers cannot see the floor."""
    await waiting_ids(harness, 3)
    amira = await harness.console("amira", live=True)
    await harness.console("ben", live=True)
    await amira.post("/api/queue/take")
    harness.clock.advance(minutes=5)
    sam = await harness.console("sam", role="supervisor")
    floor = await (await sam.get("/api/floor")).json()
    assert floor["waiting"] == 2 and floor["active"] == 1
    assert floor["longest_wait_seconds"] >= 300
    assert floor["volunteers_available"] >= 2
    holders = {s["username"]: s["holding"] for s in floor["staff"]}
    assert len(holders["amira"]) == 1
    assert "body" not in str(floor)
    assert (await amira.get("/api/floor")).status == 403
    staff = await (await amira.get("/api/staff/available")).json()
    assert {"username": "amira", "holding": 1} in staff["volunteers"]
