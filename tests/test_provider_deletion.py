"""Provider-side deletion: Twilio's copy of each message, and of its media, is deleted once Twilio is done with it."""

from __future__ import annotations

import aiohttp
import pytest

from helpline.settings import Settings
from tests.conftest import HELPLINE_NUMBER, Harness
from tests.lifecycle import deliver_all, text_and_take

NUMBER = "+447700900666"


async def test_inbound_message_and_its_media_are_deleted_after_processing(harness: Harness) -> None:
    """An inbound MMS is stored (its media never fetched), then its media and its record are deleted at Twilio."""
    params = harness.twilio.inbound_sms_params(NUMBER, HELPLINE_NUMBER, "look at this", ("image/jpeg", "image/png"))
    media = list(harness.twilio.media[params["MessageSid"]])
    assert (await harness.post_webhook("/webhooks/twilio/sms", params)).status == 200
    [(sealed,)] = harness.rows("SELECT provider_id FROM messages WHERE direction = 'in'")
    assert sealed is not None and params["MessageSid"].encode() not in bytes(sealed)
    assert ("GET", f"/2010-04-01/Accounts/{harness.twilio.account_sid}/Media") not in harness.twilio.requests

    await harness.helpline.provider_deletion.run_once()
    assert harness.twilio.deleted == [params["MessageSid"]]
    assert harness.twilio.deleted_media == media
    assert harness.twilio.media[params["MessageSid"]] == {}
    assert harness.rows("SELECT provider_id FROM messages WHERE direction = 'in'") == [(None,)]
    assert harness.rows("SELECT COUNT(*) FROM provider_deletions") == [(0,)]
    assert all(method != "GET" or "/Media/" not in path for method, path in harness.twilio.requests)


async def test_volunteer_is_told_media_was_not_downloaded(harness: Harness) -> None:
    """A picture-only message shows the volunteer that something came, without fetching it."""
    params = harness.twilio.inbound_sms_params(NUMBER, HELPLINE_NUMBER, "", ("image/jpeg",))
    assert (await harness.post_webhook("/webhooks/twilio/sms", params)).status == 200
    volunteer = await harness.console("amira")
    [waiting] = await volunteer.queue()
    shown = await volunteer.conversation(waiting["id"])
    assert "1 attachment(s) not shown" in shown["messages"][0]["body"]


async def test_outbound_is_deleted_only_after_a_final_status(harness: Harness) -> None:
    """A reply's record stays while Twilio is still delivering it, and is deleted once delivered."""
    volunteer = await harness.console("amira")
    conversation_id = await text_and_take(harness, volunteer, NUMBER, "hi")
    await volunteer.post(f"/api/conversations/{conversation_id}/messages", {"body": "hello back"})
    await harness.send_outbox()
    outbound = [sid for sid, m in harness.twilio.messages.items() if m["direction"] == "outbound-api"]
    await harness.helpline.provider_deletion.run_once()
    assert not set(outbound) & set(harness.twilio.deleted)

    await deliver_all(harness)
    await harness.helpline.provider_deletion.run_once()
    assert set(outbound) <= set(harness.twilio.deleted)
    assert harness.rows("SELECT COUNT(*) FROM messages WHERE provider_id IS NOT NULL") == [(0,)]


async def test_not_ready_is_retried_after_the_backoff(harness: Harness) -> None:
    """Twilio's 20009 (not yet deletable) is retried after delete_retry_seconds, then succeeds."""
    assert (await harness.text(NUMBER, "hi")).status == 200
    harness.twilio.fail_next(409, 20009, message="Cannot delete this resource before it is complete")
    await harness.helpline.provider_deletion.run_once()
    assert harness.twilio.deleted == []
    [(attempts, error)] = harness.rows("SELECT attempts, last_error FROM provider_deletions")
    assert (attempts, error) == (1, "20009")
    assert await harness.helpline.provider_deletion.run_once() == 0  # not due yet
    harness.clock.advance(seconds=harness.settings.sms.delete_retry_seconds)
    await harness.helpline.provider_deletion.run_once()
    assert len(harness.twilio.deleted) == 1


async def test_gives_up_after_the_give_up_time_and_audits_it(harness: Harness) -> None:
    """A deletion still failing delete_give_up_hours after it was queued is given up, audited with its code only."""
    assert (await harness.text(NUMBER, "hi")).status == 200
    for _ in range(20):
        harness.twilio.fail_next(503, 20503)
        await harness.helpline.provider_deletion.run_once()
        harness.clock.advance(hours=6)
    assert harness.rows("SELECT COUNT(*) FROM provider_deletions") == [(0,)]
    assert harness.rows("SELECT provider_id FROM messages WHERE direction = 'in'") == [(None,)]
    [(detail,)] = harness.rows("SELECT detail FROM audit WHERE action = 'provider.record_kept'")
    assert '"code": "20503"' in detail and NUMBER not in detail
    assert harness.twilio.deleted == []


async def test_permanent_refusal_is_given_up_at_once(harness: Harness) -> None:
    """A refusal that cannot change (403) is not retried."""
    assert (await harness.text(NUMBER, "hi")).status == 200
    harness.twilio.fail_next(403, 20403, message="Forbidden")
    await harness.helpline.provider_deletion.run_once()
    assert harness.rows("SELECT COUNT(*) FROM provider_deletions") == [(0,)]
    assert harness.rows("SELECT COUNT(*) FROM audit WHERE action = 'provider.record_kept'") == [(1,)]


async def test_already_gone_counts_as_deleted(harness: Harness) -> None:
    """A record someone deleted in Twilio's console (404) is simply done."""
    params = harness.twilio.inbound_sms_params(NUMBER, HELPLINE_NUMBER, "hi")
    assert (await harness.post_webhook("/webhooks/twilio/sms", params)).status == 200
    del harness.twilio.messages[params["MessageSid"]]
    del harness.twilio.media[params["MessageSid"]]
    await harness.helpline.provider_deletion.run_once()
    assert harness.rows("SELECT COUNT(*) FROM provider_deletions") == [(0,)]
    assert harness.rows("SELECT COUNT(*) FROM audit WHERE action = 'provider.record_kept'") == [(0,)]


async def test_failed_delivery_is_deleted_too(harness: Harness) -> None:
    """An undelivered reply is final as well: its record is deleted."""
    volunteer = await harness.console("amira")
    conversation_id = await text_and_take(harness, volunteer, NUMBER, "hi")
    await volunteer.post(f"/api/conversations/{conversation_id}/messages", {"body": "hello back"})
    await harness.send_outbox()
    async with aiohttp.ClientSession() as session:
        for sid, message in list(harness.twilio.messages.items()):
            if message["direction"] == "outbound-api":
                assert await harness.twilio.send_status_callback(session, sid, "undelivered") == 200
    await harness.helpline.provider_deletion.run_once()
    assert harness.rows("SELECT COUNT(*) FROM messages WHERE provider_id IS NOT NULL") == [(0,)]


class TestTurnedOff:
    """With sms.delete_provider_records off, no inbound message id is kept and nothing is deleted."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.replace("sms", delete_provider_records=False)

    async def test_nothing_kept_and_nothing_deleted(self, harness: Harness) -> None:
        """The inbound id is not stored at all, and the worker asks Twilio for nothing."""
        assert (await harness.text(NUMBER, "hi")).status == 200
        assert harness.rows("SELECT provider_id FROM messages WHERE direction = 'in'") == [(None,)]
        requests = len(harness.twilio.requests)
        await harness.helpline.provider_deletion.run_once()
        assert len(harness.twilio.requests) == requests and harness.twilio.deleted == []
