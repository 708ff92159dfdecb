"""Forged Twilio webhooks are refused with 403 and leave nothing behind."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import HELPLINE_NUMBER, Harness


def stored(harness: Harness) -> tuple[int, int, int]:
    return (
        harness.rows("SELECT COUNT(*) FROM messages")[0][0],
        harness.rows("SELECT COUNT(*) FROM inbound_seen")[0][0],
        harness.rows("SELECT COUNT(*) FROM conversations")[0][0],
    )


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", "A" * 28])
async def test_missing_or_wrong_signature_is_refused(harness: Harness, signature: str) -> None:
    """No signature, or a wrong one, gets 403 and stores nothing."""
    params = harness.twilio.inbound_sms_params("+447700900123", HELPLINE_NUMBER, "hello")
    response = await harness.post_webhook("/webhooks/twilio/sms", params, signature=signature)
    assert response.status == 403
    assert "signature" in (await response.json())["error"]
    assert stored(harness) == (0, 0, 0)


async def test_body_changed_after_signing_is_refused(harness: Harness) -> None:
    """A valid signature over different parameters does not cover an altered body."""
    params = harness.twilio.inbound_sms_params("+447700900123", HELPLINE_NUMBER, "hello")
    signature = harness.twilio.sign(harness.settings.sms.public_base_url + "/webhooks/twilio/sms", params)
    params["Body"] = "hello, altered"
    response = await harness.post_webhook("/webhooks/twilio/sms", params, signature=signature)
    assert response.status == 403
    assert stored(harness) == (0, 0, 0)


async def test_signature_for_another_url_is_refused(harness: Harness) -> None:
    """A signature made for another endpoint does not open this one."""
    params = harness.twilio.inbound_sms_params("+447700900123", HELPLINE_NUMBER, "hello")
    signature = harness.twilio.sign(harness.settings.sms.public_base_url + "/webhooks/twilio/status", params)
    response = await harness.post_webhook("/webhooks/twilio/sms", params, signature=signature)
    assert response.status == 403
    assert stored(harness) == (0, 0, 0)


async def test_signature_with_another_token_is_refused(harness: Harness) -> None:
    """A webhook signed with someone else's auth token is refused."""
    params = harness.twilio.inbound_sms_params("+447700900123", HELPLINE_NUMBER, "hello")
    url = harness.settings.sms.public_base_url + "/webhooks/twilio/sms"
    signature = RequestValidator("0" * 32).compute_signature(url, params)
    response = await harness.post_webhook("/webhooks/twilio/sms", params, signature=signature)
    assert response.status == 403
    assert stored(harness) == (0, 0, 0)


async def test_forged_status_callback_is_refused(harness: Harness) -> None:
    """A status callback without Twilio's signature cannot mark a reply delivered."""
    params = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}
    response = await harness.post_webhook("/webhooks/twilio/status?ref=" + "x" * 22, params, signature="forged")
    assert response.status == 403
