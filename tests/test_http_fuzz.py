"""Fuzzing the anonymous and signed-in surfaces: whatever arrives, the server never answers 5xx or crashes.

Three property tests, each bounded to a few hundred examples so the file runs in seconds: the console's
JSON API (signed in, with a conversation held, so requests reach the code behind the checks), the chat
socket's frames, and Twilio's webhook forms (correctly signed, so they reach the parsing). Values include
lone surrogates, deep nesting, huge and negative numbers, wrong types and unknown fields. Run with
``--hypothesis-show-statistics`` to see how many examples each ran.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.conftest import HELPLINE_NUMBER, CapturedLog, Console, Harness
from tests.test_webchat_socket import ChatClient

FUZZ = hypothesis_settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Any code point, lone surrogates included (hypothesis leaves those out unless asked).
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
FIELDS = [
    "body", "category", "closed_message", "code", "consent", "days", "decision", "level", "note", "outcome",
    "password", "reason", "role", "title", "totp", "username", "to", "contact_type", "missing_type",
    "availability", "active", "after", "id", "type", "token",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    ANY_TEXT,
    st.sampled_from(["", "advice", "volunteer", "suicide", "concern", "ended", "message", "hello", "available"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3))
OBJECTS = st.dictionaries(st.sampled_from(FIELDS) | ANY_TEXT, VALUES, max_size=6)
NESTED = st.integers(min_value=1, max_value=3000).map(lambda n: "[" * n + "]" * n)
ANY_ID = st.sampled_from(["CONV", "abcdefgh12345678", "x", "../../etc/passwd", "%00", "a" * 65])
ENDPOINTS = [
    "/api/login", "/api/me/availability", "/api/totp/confirm", "/api/queue/take",
    "/api/conversations/{id}/claim", "/api/conversations/{id}/messages", "/api/conversations/{id}/notes",
    "/api/conversations/{id}/typing", "/api/conversations/{id}/transfer", "/api/conversations/{id}/close",
    "/api/conversations/{id}/block", "/api/conversations/{id}/flag", "/api/conversations/{id}/join",
    "/api/conversations/{id}/whisper", "/api/conversations/{id}/disclosures", "/api/blocks/{id}/lift",
    "/api/escalations/{id}/acknowledge", "/api/escalations/{id}/decide", "/api/disclosures/{id}/approve",
    "/api/admin/canned", "/api/admin/users", "/api/admin/hours", "/api/admin/records/{id}/erase",
]  # fmt: skip


def json_text(value: Any) -> str:
    """JSON as a browser might send it; lone surrogates become \\ud800-style escapes."""
    return json.dumps(value, ensure_ascii=True)


def assert_no_crash(captured: CapturedLog) -> None:
    assert "http.unhandled" not in captured.text
    assert '"exception"' not in captured.text


@pytest.fixture
async def volunteer(harness: Harness) -> tuple[Console, str]:
    """A signed-in volunteer holding one SMS conversation, and that conversation's id."""
    await harness.text("+447700900123", "Hello")
    console = await harness.console("amira")
    [waiting] = await console.queue()
    assert (await console.post(f"/api/conversations/{waiting['id']}/claim")).status == 200
    return console, waiting["id"]


@FUZZ
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    target=ANY_ID,
    body=st.one_of(OBJECTS.map(json_text), VALUES.map(json_text), NESTED, st.binary(max_size=64).map(repr)),
)
async def test_json_api_never_answers_5xx(
    harness: Harness, volunteer: tuple[Console, str], captured_log: CapturedLog, endpoint: str, target: str, body: str
) -> None:
    """Any JSON (or not-JSON) body to any console endpoint gets an answer below 500."""
    console, conversation_id = volunteer
    path = endpoint.replace("{id}", conversation_id if target == "CONV" else target)
    response = await console.client.post(
        path,
        data=body.encode("utf-8", "surrogatepass"),
        headers={"Content-Type": "application/json", "X-CSRF-Token": console.csrf},
    )
    assert response.status < 500, (path, response.status)
    assert_no_crash(captured_log)


FRAME_TYPES = st.sampled_from(["hello", "message", "typing", "still_here", "ping", "end", "nonsense", None])


@st.composite
def frames(draw: st.DrawFn) -> str:
    """A chat frame: mostly well-typed objects with fuzzed fields, sometimes anything at all."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(ANY_TEXT)
    if kind == 1:
        return draw(NESTED)
    frame: dict[str, Any] = {"type": draw(FRAME_TYPES)}
    if draw(st.booleans()):
        frame["id"] = draw(st.sampled_from(["abcdefgh12345678", "short"]) | ANY_TEXT)
    frame.update(draw(st.dictionaries(st.sampled_from(["body", "active", "reason", "token", "after"]), VALUES)))
    return json_text(frame)


@FUZZ
@given(batch=st.lists(frames(), min_size=1, max_size=5))
async def test_chat_frames_never_crash_the_socket(
    harness: Harness, captured_log: CapturedLog, batch: list[str]
) -> None:
    """Any frames on an open chat get error frames or answers; a socket closes only with a reason of its own."""
    contact = ChatClient(harness)
    try:
        await contact.connect()
        assert contact.ws is not None
        for raw in batch:
            if contact.ws.closed:
                break
            await contact.ws.send_str(raw)
        if not contact.ws.closed:
            await contact.ws.send_str('{"type": "ping"}')
            while True:
                message = await contact.ws.receive(timeout=5.0)
                if message.type != aiohttp.WSMsgType.TEXT or json.loads(message.data)["type"] == "pong":
                    break
        assert contact.ws.close_code in (None, 1000, 1008, 4400, 4410), contact.ws.close_code
    finally:
        await contact.aclose()
    assert_no_crash(captured_log)


FORM_FIELDS = ["From", "To", "Body", "MessageSid", "SmsSid", "NumMedia", "MessageStatus", "ErrorCode", "AccountSid"]
FORM_TEXT = st.text(max_size=30) | st.sampled_from(["²", "١", "+447700900123", "SM" + "a" * 32, "-1", "99", ""])


@FUZZ
@given(
    path=st.sampled_from(
        ["/webhooks/twilio/sms", "/webhooks/twilio/status", "/webhooks/twilio/status?ref=abcdefgh12345678abcd"]
    ),
    changes=st.dictionaries(st.sampled_from(FORM_FIELDS) | st.text(max_size=10), FORM_TEXT, max_size=5),
    drop=st.lists(st.sampled_from(FORM_FIELDS), max_size=3),
)
async def test_signed_webhook_forms_never_answer_5xx(
    harness: Harness, captured_log: CapturedLog, path: str, changes: dict[str, str], drop: list[str]
) -> None:
    """A correctly signed webhook with any fields changed, added or missing gets an answer below 500."""
    params = harness.twilio.inbound_sms_params("+447700900123", HELPLINE_NUMBER, "Hello") | changes
    for name in drop:
        params.pop(name, None)
    url = harness.settings.sms.public_base_url + path
    client = await harness.console()
    response = await client.client.post(
        path,
        data=urlencode(params).encode("ascii"),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": harness.twilio.sign(url, params),
        },
    )
    assert response.status < 500, (path, response.status)
    await harness.route_intake()
    assert_no_crash(captured_log)
