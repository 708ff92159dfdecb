"""Opening hours with the out-of-hours reply, and canned responses kept by admins."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from helpline.app import build
from helpline.core.hours import OpeningHours
from helpline.errors import InvalidInput
from tests.conftest import Harness

WEEKDAYS_9_TO_5 = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def test_hours_ranges_including_past_midnight() -> None:
    """Ranges are local to the time zone, and one passing midnight covers the small hours."""
    hours = OpeningHours.build("Europe/London", {"fri": ["22:00-02:00"], "mon": ["09:00-17:00"]}, "closed")
    assert hours.is_open(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # Monday 09:00 in London (GMT)
    assert not hours.is_open(datetime(2026, 3, 2, 17, 0, tzinfo=UTC))
    assert hours.is_open(datetime(2026, 3, 6, 23, 0, tzinfo=UTC))  # Friday night
    assert hours.is_open(datetime(2026, 3, 7, 1, 30, tzinfo=UTC))  # Saturday small hours
    assert not hours.is_open(datetime(2026, 3, 7, 2, 30, tzinfo=UTC))
    assert OpeningHours.build("Europe/London", {"sun": ["00:00-24:00"]}, "").is_open(
        datetime(2026, 3, 8, 23, 59, tzinfo=UTC)
    )


@pytest.mark.parametrize("bad", [{"mon": ["9-5"]}, {"mon": ["17:00-17:00"]}, {"funday": []}, {"mon": ["24:30-25:00"]}])
def test_bad_hours_are_refused(bad: dict[str, list[str]]) -> None:
    """Malformed ranges and unknown days are clear errors."""
    with pytest.raises(InvalidInput):
        OpeningHours.build("Europe/London", bad, "closed")


async def test_out_of_hours_contact_gets_the_closed_message(harness: Harness) -> None:
    """Outside opening hours, a new contact gets the closed message (with signposting) and still waits in the queue."""
    admin = await harness.console("ada", role="admin")
    saved = await admin.post("/api/admin/hours", {"days": WEEKDAYS_9_TO_5, "closed_message": "Closed. Call 999."})
    assert saved.status == 200
    harness.clock.advance(hours=10)  # Monday 19:00
    await harness.text("+447700900123", "anyone?")
    await harness.send_outbox()
    assert [m["Body"] for m in harness.twilio.created] == ["Closed. Call 999."]
    assert harness.rows("SELECT COUNT(*) FROM conversations WHERE status = 'waiting'") == [(1,)]
    admin = await harness.console("ada2", role="admin")  # the first admin's session has idled out by now
    hours = await (await admin.get("/api/admin/hours")).json()
    assert hours["open_now"] is False and hours["days"]["mon"] == ["09:00-17:00"]


async def test_in_hours_contact_gets_the_greeting(harness: Harness) -> None:
    """During opening hours the configured greeting is sent."""
    admin = await harness.console("ada", role="admin")
    await admin.post("/api/admin/hours", {"days": WEEKDAYS_9_TO_5, "closed_message": "Closed."})
    await harness.text("+447700900123", "hello")  # Monday 09:00
    await harness.send_outbox()
    assert [m["Body"] for m in harness.twilio.created] == [harness.settings.helpline.greeting]


async def test_saved_hours_survive_a_restart(harness: Harness) -> None:
    """Hours an admin saved are loaded again when the server starts."""
    admin = await harness.console("ada", role="admin")
    await admin.post("/api/admin/hours", {"days": {"sun": ["10:00-11:00"]}, "closed_message": "Back Sunday."})
    restarted = build(harness.settings, harness.clock)
    await restarted.open()
    try:
        assert restarted.hours.current.closed_message == "Back Sunday."
    finally:
        await restarted.close()


async def test_bad_hours_request(harness: Harness) -> None:
    """A malformed hours request is a 400 and changes nothing."""
    admin = await harness.console("ada", role="admin")
    assert (await admin.post("/api/admin/hours", {"days": {"mon": ["nine"]}, "closed_message": "x"})).status == 400
    assert (await admin.post("/api/admin/hours", {"days": "always", "closed_message": "x"})).status == 400
    assert (await (await admin.get("/api/admin/hours")).json())["days"]["mon"] == ["00:00-24:00"]


async def test_canned_responses(harness: Harness) -> None:
    """Admins add, change and delete canned responses; everyone signed in can list them; codes are unique."""
    admin = await harness.console("ada", role="admin")
    amira = await harness.console("amira")
    created = await admin.post("/api/admin/canned", {"code": "welcome", "title": "Welcome", "body": "Hi, I'm here."})
    assert created.status == 201
    canned_id = (await created.json())["id"]
    listed = (await (await amira.get("/api/canned")).json())["canned"]
    assert [(c["code"], c["body"]) for c in listed] == [("welcome", "Hi, I'm here.")]
    assert (await admin.post("/api/admin/canned", {"code": "welcome", "title": "x", "body": "y"})).status == 409
    assert (await admin.post("/api/admin/canned", {"code": "Bad Code", "title": "x", "body": "y"})).status == 400
    changed = await admin.post(f"/api/admin/canned/{canned_id}", {"code": "welcome", "title": "W", "body": "Hello."})
    assert changed.status == 200
    assert (await (await amira.get("/api/canned")).json())["canned"][0]["body"] == "Hello."
    assert (await admin.post(f"/api/admin/canned/{canned_id}/delete")).status == 200
    assert (await (await amira.get("/api/canned")).json())["canned"] == []
    assert (await admin.post(f"/api/admin/canned/{canned_id}/delete")).status == 404
