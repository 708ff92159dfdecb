"""Retention: addresses go after the grace period, transcripts after transcript_days, held ones only when allowed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpline.errors import ConfigError
from helpline.settings import Settings, load
from tests.conftest import Harness
from tests.lifecycle import close, conversation_walked_to_close, count, text_and_take

NUMBER = "+447700900555"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace("retention", transcript_days=30, safeguarding_days=90, inbound_key_days=7)


async def test_transcript_is_shredded_after_retention(harness: Harness) -> None:
    """A closed conversation keeps its transcript for transcript_days; then its rows and data key are gone."""
    volunteer = await harness.console("amira")
    conversation_id = await conversation_walked_to_close(harness, volunteer, NUMBER, "RETAINED hello")
    harness.clock.advance(days=29, hours=23)
    assert (await harness.helpline.purger.run_once()).conversations == 0
    assert count(harness, "messages", conversation_id) == 3

    harness.clock.advance(hours=2)
    report = await harness.helpline.purger.run_once()
    assert report.conversations == 1
    for table in ("messages", "outbox", "vault", "routes", "notes", "provider_deletions"):
        assert count(harness, table, conversation_id) == 0, table
    [(data_key, status, outcome, purged_at)] = harness.rows(
        "SELECT data_key, status, outcome, purged_at FROM conversations WHERE id = ?", (conversation_id,)
    )
    assert data_key is None and status == "closed" and outcome == "support" and purged_at is not None
    actions = [row[0] for row in harness.rows("SELECT action FROM audit WHERE object_id = ?", (conversation_id,))]
    assert "conversation.purged" in actions


async def test_purge_is_idempotent_and_truncates_the_wal(harness: Harness) -> None:
    """A second purge finds nothing to do, and after a purge SQLite's write-ahead log is empty."""
    volunteer = await harness.console("amira")
    await conversation_walked_to_close(harness, volunteer, NUMBER, "hello")
    harness.clock.advance(days=31)
    assert (await harness.helpline.purger.run_once()).conversations == 1
    if not harness.db.postgres:  # PostgreSQL recycles its own WAL (see SECURITY.md)
        assert harness.settings.storage.database.with_name("helpline.db-wal").stat().st_size == 0
    second = await harness.helpline.purger.run_once()
    assert not second.anything


async def test_purged_conversation_shows_without_text(harness: Harness) -> None:
    """A supervisor can still open a purged conversation's row; it has no messages left to show."""
    volunteer = await harness.console("amira")
    conversation_id = await conversation_walked_to_close(harness, volunteer, NUMBER, "hello")
    harness.clock.advance(days=31)
    await harness.helpline.purger.run_once()
    supervisor = await harness.console("sam", role="supervisor")
    shown = await supervisor.conversation(conversation_id)
    assert shown["messages"] == [] and shown["status"] == "closed"


async def flagged(harness: Harness) -> tuple[str, str]:
    """A conversation with a raised escalation, then closed; returns its id and the escalation's."""
    volunteer = await harness.console("amira")
    conversation_id = await text_and_take(harness, volunteer, NUMBER, "he hurt me")
    raised = await volunteer.post(
        f"/api/conversations/{conversation_id}/flag",
        {"category": "abuse", "level": "significant_harm", "note": "FLAGNOTE"},
    )
    assert raised.status == 201, await raised.text()
    await close(volunteer, conversation_id)
    return conversation_id, str((await raised.json())["escalation_id"])


async def test_open_escalation_is_never_purged(harness: Harness) -> None:
    """However old, a conversation whose escalation is not closed keeps its transcript."""
    conversation_id, _ = await flagged(harness)
    harness.clock.advance(days=3650)
    assert (await harness.helpline.purger.run_once()).conversations == 0
    assert count(harness, "messages", conversation_id) > 0


async def test_closed_escalation_holds_for_safeguarding_days(harness: Harness) -> None:
    """Once escalations close, the transcript is kept until the last closed plus safeguarding_days."""
    _, escalation_id = await flagged(harness)
    supervisor = await harness.console("sam", role="supervisor")
    for step, payload in (("acknowledge", {}), ("decide", {"decision": "referred", "note": "DECISIONNOTE"})):
        response = await supervisor.post(f"/api/escalations/{escalation_id}/{step}", payload)
        assert response.status == 200, await response.text()
    harness.clock.advance(days=40)
    await supervisor.login("sam")
    assert (await supervisor.post(f"/api/escalations/{escalation_id}/close")).status == 200
    harness.clock.advance(days=89)
    assert (await harness.helpline.purger.run_once()).conversations == 0
    harness.clock.advance(days=2)
    assert (await harness.helpline.purger.run_once()).conversations == 1
    [(note, decision_note, category, decision)] = harness.rows(
        "SELECT note, decision_note, category, decision FROM escalations WHERE id = ?", (escalation_id,)
    )
    assert (bytes(note), decision_note, category, decision) == (b"", None, "abuse", "referred")


async def test_idempotency_keys_expire(harness: Harness) -> None:
    """Keyed hashes of inbound message ids are kept inbound_key_days, then deleted."""
    assert (await harness.text(NUMBER, "one")).status == 200
    harness.clock.advance(days=6)
    assert (await harness.text(NUMBER, "two")).status == 200
    harness.clock.advance(days=1, seconds=1)
    assert (await harness.helpline.purger.run_once()).inbound_keys == 1
    assert harness.rows("SELECT COUNT(*) FROM inbound_seen") == [(1,)]


class TestGracePeriod:
    """With a grace period, a closed conversation keeps its address until it ends."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Iterator[Settings]:
        yield settings.replace("retention", vault_grace_minutes=10)

    async def test_message_in_grace_reopens_the_same_conversation(self, harness: Harness) -> None:
        """A text within the grace period puts the same conversation back in the queue."""
        volunteer = await harness.console("amira")
        conversation_id = await conversation_walked_to_close(harness, volunteer, NUMBER, "first")
        assert count(harness, "vault", conversation_id) == 1 and count(harness, "routes", conversation_id) == 1
        harness.clock.advance(minutes=9)
        assert (await harness.text(NUMBER, "wait, one more thing")).status == 200
        [waiting] = await volunteer.queue()
        assert waiting["id"] == conversation_id and waiting["status"] == "waiting"
        actions = [row[0] for row in harness.rows("SELECT action FROM audit WHERE object_id = ?", (conversation_id,))]
        assert "conversation.reopened" in actions

    async def test_address_goes_when_grace_ends(self, harness: Harness) -> None:
        """After the grace period the vault entry and route are deleted, and a new text opens a new conversation."""
        volunteer = await harness.console("amira")
        conversation_id = await conversation_walked_to_close(harness, volunteer, NUMBER, "first")
        harness.clock.advance(minutes=9)
        assert await harness.helpline.retention.expire_addresses() == 0
        harness.clock.advance(minutes=2)
        assert await harness.helpline.retention.expire_addresses() == 1
        assert count(harness, "vault", conversation_id) == 0 and count(harness, "routes", conversation_id) == 0
        assert (await harness.text(NUMBER, "hello again")).status == 200
        [waiting] = await volunteer.queue()
        assert waiting["id"] != conversation_id


async def test_record_expires_after_record_days_from_last_contact(harness: Harness) -> None:
    """A consented record is kept record_days after its last linked conversation closed, then shredded."""
    volunteer = await harness.console("amira")
    conversation_id = await text_and_take(harness, volunteer, NUMBER, "hello")
    record = {"name": "Jo RECORDNAME", "date_of_birth": "2011", "contact_details": "x", "summary": "helped"}
    await close(volunteer, conversation_id, consent=True, record=record)
    [(record_id,)] = harness.rows("SELECT record_id FROM conversations WHERE id = ?", (conversation_id,))
    harness.clock.advance(days=300)
    await volunteer.login("amira")
    returning = await text_and_take(harness, volunteer, NUMBER, "it's me again")
    await close(volunteer, returning)
    assert harness.rows("SELECT record_id FROM conversations WHERE id = ?", (returning,)) == [(record_id,)]
    harness.clock.advance(days=300)
    assert (await harness.helpline.purger.run_once()).records == 0
    harness.clock.advance(days=66)
    assert (await harness.helpline.purger.run_once()).records == 1
    [(data_key, blind_index, name, end_reason)] = harness.rows(
        "SELECT data_key, blind_index, name, end_reason FROM records WHERE id = ?", (record_id,)
    )
    assert (data_key, blind_index, bytes(name), end_reason) == (None, None, b"", "expired")
    assert harness.rows("SELECT COUNT(*) FROM conversations WHERE record_id IS NOT NULL") == [(0,)]


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"HELPLINE_RETENTION__TRANSCRIPT_DAYS": "-1"}, "retention.transcript_days"),
        ({"HELPLINE_RETENTION__VAULT_GRACE_MINUTES": "100000"}, "retention.vault_grace_minutes"),
        ({"HELPLINE_RETENTION__PURGE_BATCH_SIZE": "0"}, "purge_batch_size"),
        ({"HELPLINE_SMS__DELETE_GIVE_UP_HOURS": "0"}, "sms.delete_"),
    ],
)
def test_bad_retention_settings_stop_the_start(environ: dict[str, str], named: str) -> None:
    """A negative period, a grace longer than the transcript's retention, or a zero batch is refused at start."""
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load(environ=environ)
