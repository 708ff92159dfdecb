"""Private notes, the closing form, consented records, and returning contacts."""

from __future__ import annotations

from typing import Any

from tests.conftest import Console, Harness

TEXTER = "+447700900123"
RECORD = {
    "name": "Jo CANARYNAME",
    "date_of_birth": "2011-04-02",
    "contact_details": "call after school",
    "summary": "Ran away after an argument; agreed to call her aunt.",
}


async def held(harness: Harness, name: str = "amira", sender: str = TEXTER) -> tuple[Console, str]:
    await harness.text(sender, "hello")
    volunteer = await harness.console(name)
    taken = await volunteer.post("/api/queue/take")
    return volunteer, str((await taken.json())["id"])


def closing(consent: bool, record: dict[str, Any] | None = None) -> dict[str, Any]:
    form: dict[str, Any] = {
        "outcome": "advice",
        "contact_type": "missing_person",
        "missing_type": "runaway_or_thrown_out",
        "consent": consent,
    }
    if record is not None:
        form["record"] = record
    return form


async def test_private_notes_are_staff_only(harness: Harness) -> None:
    """A note shows in the console, is sealed at rest, and is never sent to the contact."""
    amira, conversation = await held(harness)
    response = await amira.post(f"/api/conversations/{conversation}/notes", {"body": "CANARYNOTE mentions a boyfriend"})
    assert response.status == 201
    notes = (await amira.conversation(conversation))["notes"]
    assert [n["body"] for n in notes] == ["CANARYNOTE mentions a boyfriend"]
    await harness.send_outbox()
    assert all("CANARYNOTE" not in m["Body"] for m in harness.twilio.created)
    assert b"CANARYNOTE" not in harness.db.stored_bytes()


async def test_notes_need_text_and_the_holder(harness: Harness) -> None:
    """Empty notes, and notes by someone not holding the conversation, are refused."""
    amira, conversation = await held(harness)
    ben = await harness.console("ben")
    assert (await amira.post(f"/api/conversations/{conversation}/notes", {"body": "  "})).status == 400
    assert (await ben.post(f"/api/conversations/{conversation}/notes", {"body": "hi"})).status == 403


async def test_closing_with_consent_keeps_a_sealed_record_and_reads_are_audited(harness: Harness) -> None:
    """With consent, the record is kept sealed with the consent wording and time; each read is audited."""
    amira, conversation = await held(harness)
    response = await amira.post(f"/api/conversations/{conversation}/close", closing(True, RECORD))
    assert response.status == 200, await response.text()
    record_id = (await amira.conversation(conversation))["record_id"]
    assert record_id
    assert b"CANARYNAME" not in harness.db.stored_bytes()
    record = await (await amira.get(f"/api/records/{record_id}")).json()
    assert record["name"] == RECORD["name"] and record["summary"] == RECORD["summary"]
    assert record["consent_wording"] == harness.settings.console.consent_wording
    assert record["consented_at"] and record["conversations"] == [conversation]
    await amira.get(f"/api/records/{record_id}")
    assert harness.rows("SELECT COUNT(*) FROM audit WHERE action = 'record.read'") == [(2,)]
    assert harness.rows("SELECT contact_type, missing_type FROM conversations") == [
        ("missing_person", "runaway_or_thrown_out")
    ]


async def test_returning_contact_is_linked_only_with_consent(harness: Harness) -> None:
    """A contact who consented is recognised next time; one who did not is not linked to anything."""
    amira, first = await held(harness, sender=TEXTER)
    await amira.post(f"/api/conversations/{first}/close", closing(True, RECORD))
    ben, second = await held(harness, "ben", sender=TEXTER)
    view = await ben.conversation(second)
    assert view["record_id"] == (await amira.conversation(first))["record_id"]
    assert view["returning"] is True

    await ben.post(f"/api/conversations/{second}/close", closing(False))
    other_sender = "+447700900999"
    cleo, third = await held(harness, "cleo", sender=other_sender)
    await cleo.post(f"/api/conversations/{third}/close", closing(False))
    dan, fourth = await held(harness, "dan", sender=other_sender)
    assert (await dan.conversation(fourth))["record_id"] is None
    assert harness.rows("SELECT COUNT(*) FROM records") == [(1,)]


async def test_closing_form_refusals_leave_it_open(harness: Harness) -> None:
    """A record without consent, consent without a record, or unknown codes are refused; nothing is kept."""
    amira, conversation = await held(harness)
    path = f"/api/conversations/{conversation}/close"
    bad_forms = [
        closing(False, RECORD),
        closing(True),
        {**closing(False), "contact_type": "alien"},
        {**closing(False), "missing_type": "vanished"},
        {**closing(False), "consent": "yes"},
        closing(True, {**RECORD, "name": "x" * 500}),
        closing(True, {"name": "", "date_of_birth": "", "contact_details": "", "summary": ""}),
        {**closing(True), "record": "not an object"},
    ]
    for form in bad_forms:
        response = await amira.post(path, form)
        assert response.status == 400, form
        assert (await response.json())["error"]
    assert (await amira.conversation(conversation))["status"] == "active"
    assert harness.rows("SELECT COUNT(*) FROM records") == [(0,)]


async def test_unknown_record_is_404(harness: Harness) -> None:
    """Asking for a record that does not exist is a 404 and reveals nothing."""
    amira = await harness.console("amira")
    assert (await amira.get("/api/records/abcdefghijklmnopqrstuv")).status == 404
