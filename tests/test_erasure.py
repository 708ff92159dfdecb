"""Erasure on request: a record and its conversations go, and the audit log keeps no contact details."""

from __future__ import annotations

import asyncio

import pytest

from helpline import cli
from tests.conftest import Console, Harness
from tests.lifecycle import close, count, text_and_take

NUMBER = "+447700900777"
RECORD = {
    "name": "ERASENAME Jo",
    "date_of_birth": "2010-01-01",
    "contact_details": "ERASECONTACT via school",
    "summary": "ERASESUMMARY ran away twice",
}


async def record_with_two_conversations(harness: Harness) -> tuple[Console, str, str, str]:
    """A contact consents to a record, comes back (recognised), and is still talking; returns the ids."""
    volunteer = await harness.console("amira")
    first = await text_and_take(harness, volunteer, NUMBER, "first time")
    await close(volunteer, first, consent=True, record=RECORD)
    [(record_id,)] = harness.rows("SELECT record_id FROM conversations WHERE id = ?", (first,))
    second = await text_and_take(harness, volunteer, NUMBER, "it's me again")
    assert harness.rows("SELECT record_id FROM conversations WHERE id = ?", (second,)) == [(record_id,)]
    return volunteer, record_id, first, second


async def test_admin_erases_record_and_closed_conversations(harness: Harness) -> None:
    """The record's fields, blind index and key go, and so does every closed linked transcript; an open one is kept."""
    _, record_id, first, second = await record_with_two_conversations(harness)
    admin = await harness.console("root", role="admin")
    response = await admin.post(f"/api/admin/records/{record_id}/erase")
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["conversations"] == [first]
    assert body["held"] == [{"id": second, "why": "open"}]

    [(data_key, blind_index, name, end_reason)] = harness.rows(
        "SELECT data_key, blind_index, name, end_reason FROM records WHERE id = ?", (record_id,)
    )
    assert (data_key, blind_index, bytes(name), end_reason) == (None, None, b"", "erased")
    assert count(harness, "messages", first) == 0
    assert harness.rows("SELECT data_key FROM conversations WHERE id = ?", (first,)) == [(None,)]
    assert count(harness, "messages", second) > 0
    assert harness.rows("SELECT COUNT(*) FROM conversations WHERE record_id IS NOT NULL") == [(0,)]
    assert (await admin.get(f"/api/records/{record_id}")).status == 403  # an admin reads no record
    supervisor = await harness.console("sam", role="supervisor")
    assert (await supervisor.get(f"/api/records/{record_id}")).status == 409


async def test_erasure_is_audited_without_the_contacts_details(harness: Harness) -> None:
    """The audit entry names the admin, the record and counts, and nothing the contact said."""
    _, record_id, _, _ = await record_with_two_conversations(harness)
    admin = await harness.console("root", role="admin")
    assert (await admin.post(f"/api/admin/records/{record_id}/erase")).status == 200
    [(actor, detail)] = harness.rows("SELECT actor, detail FROM audit WHERE action = 'record.erased'")
    assert actor != "system" and '"conversations": "1"' in detail and '"held": "1"' in detail
    everything = " ".join(str(row) for row in harness.rows("SELECT * FROM audit"))
    for secret in (NUMBER, "ERASENAME", "ERASECONTACT", "ERASESUMMARY", "2010-01-01"):
        assert secret not in everything


async def test_only_admins_can_erase(harness: Harness) -> None:
    """A volunteer or supervisor is refused, and the record stays."""
    _, record_id, _, _ = await record_with_two_conversations(harness)
    for name, role in (("vera", "volunteer"), ("sam", "supervisor")):
        someone = await harness.console(name, role=role)
        assert (await someone.post(f"/api/admin/records/{record_id}/erase")).status == 403
    assert harness.rows("SELECT end_reason FROM records WHERE id = ?", (record_id,)) == [(None,)]


async def test_erasing_twice_or_nothing_is_refused(harness: Harness) -> None:
    """A second erasure answers 409; an unknown record 404."""
    _, record_id, _, _ = await record_with_two_conversations(harness)
    admin = await harness.console("root", role="admin")
    assert (await admin.post(f"/api/admin/records/{record_id}/erase")).status == 200
    assert (await admin.post(f"/api/admin/records/{record_id}/erase")).status == 409
    assert (await admin.post("/api/admin/records/no-such-record-id/erase")).status == 404


async def test_erased_contact_is_no_longer_recognised(harness: Harness) -> None:
    """After erasure, the same number starts a conversation linked to no record."""
    volunteer, record_id, _, second = await record_with_two_conversations(harness)
    admin = await harness.console("root", role="admin")
    assert (await admin.post(f"/api/admin/records/{record_id}/erase")).status == 200
    await close(volunteer, second)
    third = await text_and_take(harness, volunteer, NUMBER, "hello")
    assert harness.rows("SELECT record_id FROM conversations WHERE id = ?", (third,)) == [(None,)]


async def test_operator_erases_from_the_command_line(harness: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    """`helpline records erase ID` does the same, audited as the command line."""
    volunteer, record_id, _, second = await record_with_two_conversations(harness)
    await close(volunteer, second)
    config = str(harness.data_dir / "helpline.toml")
    assert await asyncio.to_thread(cli.main, ["records", "erase", record_id, "--config", config]) == 0
    assert "2 linked conversations" in capsys.readouterr().out
    assert harness.rows("SELECT actor FROM audit WHERE action = 'record.erased'") == [("cli",)]
