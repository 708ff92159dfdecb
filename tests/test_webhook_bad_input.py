"""Malformed inbound webhooks get a clear 400 and store nothing; redeliveries store one message."""

from __future__ import annotations

from typing import Any

import pytest
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from tests.conftest import HELPLINE_NUMBER, Harness


def count(harness: Harness, table: str) -> int:
    return int(harness.rows(f"SELECT COUNT(*) FROM {table}")[0][0])  # noqa: S608 - fixed table names


def nothing_stored(harness: Harness) -> bool:
    return all(count(harness, t) == 0 for t in ("messages", "inbound_seen", "conversations", "vault", "routes"))


@pytest.mark.parametrize("missing", ["From", "Body", "MessageSid"])
async def test_missing_field(harness: Harness, missing: str) -> None:
    """A webhook without From, Body or MessageSid is refused with a message naming what is needed."""
    params = harness.twilio.inbound_sms_params("+447700900123", HELPLINE_NUMBER, "hello")
    del params[missing]
    if missing == "MessageSid":
        del params["SmsSid"]
    response = await harness.post_webhook("/webhooks/twilio/sms", params)
    assert response.status == 400
    assert "From, MessageSid and Body" in (await response.json())["error"]
    assert nothing_stored(harness)


async def test_body_too_long(harness: Harness) -> None:
    """A body over sms.max_body_chars is refused and nothing is kept."""
    limit = harness.settings.sms.max_body_chars
    params = harness.twilio.inbound_sms_params("+447700900123", HELPLINE_NUMBER, "x" * (limit + 1))
    response = await harness.post_webhook("/webhooks/twilio/sms", params)
    assert response.status == 400
    assert str(limit) in (await response.json())["error"]
    assert nothing_stored(harness)


async def test_invalid_utf8(harness: Harness) -> None:
    """A body whose percent-encoding decodes to invalid UTF-8 is refused."""
    client = await harness.console()
    raw = b"From=%2B447700900123&MessageSid=SM" + b"0" * 32 + b"&Body=%ff%fe"
    response = await client.client.post(
        "/webhooks/twilio/sms",
        data=raw,
        headers={"X-Twilio-Signature": "c2ln", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 400
    assert "UTF-8" in (await response.json())["error"]
    assert nothing_stored(harness)


async def test_not_a_form(harness: Harness) -> None:
    """A JSON body is not a Twilio webhook."""
    client = await harness.console()
    response = await client.client.post(
        "/webhooks/twilio/sms", json={"From": "+447700900123"}, headers={"X-Twilio-Signature": "c2ln"}
    )
    assert response.status == 400
    assert nothing_stored(harness)


async def test_repeated_field(harness: Harness) -> None:
    """Two Body fields are refused rather than guessed between."""
    params: Any = list(harness.twilio.inbound_sms_params("+447700900123", HELPLINE_NUMBER, "one").items())
    params.append(("Body", "two"))
    form = MultiDict(params)
    url = harness.settings.sms.public_base_url + "/webhooks/twilio/sms"
    signature = RequestValidator(harness.settings.sms.auth_token).compute_signature(url, form)
    client = await harness.console()
    response = await client.client.post("/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status == 400
    assert "more than once" in (await response.json())["error"]
    assert nothing_stored(harness)


async def test_bad_sender(harness: Harness) -> None:
    """A From that is neither a number nor a sender id is refused."""
    params = harness.twilio.inbound_sms_params("+447700900123", HELPLINE_NUMBER, "hello")
    params["From"] = "<script>"
    response = await harness.post_webhook("/webhooks/twilio/sms", params)
    assert response.status == 400
    assert nothing_stored(harness)


async def test_same_message_sid_twice_stores_one_message(harness: Harness) -> None:
    """Twilio's redelivery of the same MessageSid is acknowledged and stored once."""
    sid = "SM" + "ab" * 16
    first = await harness.text("+447700900123", "hello", sid=sid)
    second = await harness.text("+447700900123", "hello", sid=sid)
    assert first.status == second.status == 200
    assert count(harness, "messages") == 2  # the message and the greeting
    assert harness.rows("SELECT COUNT(*) FROM messages WHERE direction = 'in'") == [(1,)]
    assert count(harness, "inbound_seen") == 1


async def test_empty_body_is_a_message(harness: Harness) -> None:
    """An empty SMS (e.g. media only) still opens a conversation rather than being lost."""
    response = await harness.text("+447700900123", "")
    assert response.status == 200
    assert harness.rows("SELECT COUNT(*) FROM messages WHERE direction = 'in'") == [(1,)]
