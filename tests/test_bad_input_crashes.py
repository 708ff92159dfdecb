"""Bad input that used to crash a handler: each gets a clear 4xx (or a chat error frame), never a 500.

Each case was once an anonymous 500 or a dropped socket with a traceback in the log: JSON nested 40,000
deep, text with lone surrogates (which cannot be encoded as UTF-8), a superscript digit where a count
belongs, a 5,000-character static path, and a multipart body cut short.
"""

from __future__ import annotations

import json

import pytest
from aiohttp import ClientResponse

from tests.conftest import PASSWORD, CapturedLog, Console, Harness
from tests.test_webchat_socket import ChatClient

DEEP = "[" * 40_000 + "]" * 40_000
# Deep enough to exhaust json's recursion, small enough to pass the size limits (64 KiB, a chat frame's 16).
DEEP_SMALL = "[" * 5_000 + "]" * 5_000
LONE = "\ud800"  # a lone high surrogate: valid in JSON text as an escape, not encodable as UTF-8
LONE_JSON = '"\\ud800 hello \\udfff"'


def assert_no_crash(captured: CapturedLog) -> None:
    """Nothing was an unhandled error, and no traceback reached the log."""
    assert "http.unhandled" not in captured.text
    assert '"exception"' not in captured.text
    assert "Traceback" not in captured.text


async def post_raw(client: Console, path: str, body: str, content_type: str = "application/json") -> ClientResponse:
    return await client.client.post(
        path, data=body.encode("utf-8"), headers={"Content-Type": content_type, "X-CSRF-Token": client.csrf}
    )


async def test_json_nested_40000_deep_is_a_400(harness: Harness, captured_log: CapturedLog) -> None:
    """A JSON body nested 40,000 (or 5,000) deep is refused with 400, not a RecursionError."""
    client = await harness.console()
    assert (await post_raw(client, "/api/login", DEEP)).status == 400
    response = await post_raw(client, "/api/login", DEEP_SMALL)
    assert response.status == 400
    assert "nested too deeply" in (await response.json())["error"]
    assert_no_crash(captured_log)


@pytest.mark.parametrize("field", ["username", "password"])
async def test_sign_in_with_a_lone_surrogate_is_a_400(harness: Harness, captured_log: CapturedLog, field: str) -> None:
    """A sign-in whose name or password holds a lone surrogate is refused with 400."""
    await harness.helpline.accounts.add_user("amira", "volunteer", PASSWORD)
    client = await harness.console()
    fields = {"username": '"amira"', "password": json.dumps(PASSWORD)} | {field: LONE_JSON}
    response = await post_raw(client, "/api/login", "{" + ",".join(f'"{k}": {v}' for k, v in fields.items()) + "}")
    assert response.status == 400
    assert "text" in (await response.json())["error"]
    assert_no_crash(captured_log)


@pytest.mark.parametrize("action", ["messages", "notes"])
async def test_reply_or_note_with_a_lone_surrogate_is_a_400_and_stores_nothing(
    harness: Harness, captured_log: CapturedLog, action: str
) -> None:
    """A reply or note holding a lone surrogate is refused with 400 and nothing is stored or queued."""
    await harness.text("+447700900123", "Hello")
    volunteer = await harness.console("amira")
    [waiting] = await volunteer.queue()
    assert (await volunteer.post(f"/api/conversations/{waiting['id']}/claim")).status == 200
    before = harness.rows("SELECT COUNT(*) FROM messages")[0][0] + harness.rows("SELECT COUNT(*) FROM notes")[0][0]
    response = await post_raw(volunteer, f"/api/conversations/{waiting['id']}/{action}", '{"body": ' + LONE_JSON + "}")
    assert response.status == 400
    after = harness.rows("SELECT COUNT(*) FROM messages")[0][0] + harness.rows("SELECT COUNT(*) FROM notes")[0][0]
    assert after == before
    assert harness.rows("SELECT COUNT(*) FROM outbox")[0][0] == 1  # the greeting only
    assert_no_crash(captured_log)


@pytest.mark.parametrize(
    "raw",
    [
        '{"type": "message", "id": "abcdefgh12345678", "body": ' + LONE_JSON + "}",
        '{"type": "hello", "token": ' + LONE_JSON + ', "after": 0}',
        '{"type": "message", "id": "abcdefgh12345678", "body": "hi", "extra": ' + DEEP_SMALL + "}",
    ],
    ids=["lone-surrogate-body", "lone-surrogate-hello", "nested-5000"],
)
async def test_chat_frames_with_lone_surrogates_or_deep_nesting_get_an_error_frame(
    harness: Harness, captured_log: CapturedLog, raw: str
) -> None:
    """Such a frame is answered with an error frame; the socket stays open and the chat goes on."""
    contact = ChatClient(harness)
    try:
        await contact.connect()
        assert contact.ws is not None
        await contact.ws.send_str(raw)
        error = await contact.next("error")
        assert error["code"] == "bad_frame" and error["message"]
        assert (await contact.say("still here"))["type"] == "ack"
    finally:
        await contact.aclose()
    assert_no_crash(captured_log)


async def test_a_lone_surrogate_as_the_first_chat_frame_closes_it_with_a_reason(
    harness: Harness, captured_log: CapturedLog
) -> None:
    """A hello that cannot be read (a lone surrogate in its token) closes the socket with 4400."""
    contact = ChatClient(harness)
    try:
        ws = await contact.open()
        await ws.send_str('{"type": "hello", "token": ' + LONE_JSON + ', "after": 0}')
        assert (await contact.closed())[0] == 4400
    finally:
        await contact.aclose()
    assert_no_crash(captured_log)


@pytest.mark.parametrize("count", ["²", "١", "1" * 40, "-1"])
async def test_num_media_that_is_not_a_plain_count_is_a_400(
    harness: Harness, captured_log: CapturedLog, count: str
) -> None:
    """NumMedia of a superscript or Arabic-Indic digit, an absurd count or a sign is refused; nothing stored."""
    params = harness.twilio.inbound_sms_params("+447700900123", "+447700900001", "Hello")
    params["NumMedia"] = count
    response = await harness.post_webhook("/webhooks/twilio/sms", params)
    assert response.status == 400
    assert harness.rows("SELECT COUNT(*) FROM messages")[0][0] == 0
    assert_no_crash(captured_log)


async def test_a_5000_character_static_path_is_a_404(harness: Harness, captured_log: CapturedLog) -> None:
    """A static file name far longer than any file system allows is simply not found."""
    client = await harness.console()
    for path in ("/static/" + "a" * 5000, "/static/" + "a/" * 2500, "/chat/static/" + "a" * 5000):
        response = await client.get(path)
        assert response.status == 404, path[:40]
    assert_no_crash(captured_log)


async def test_a_truncated_multipart_body_on_chat_send_is_a_4xx(harness: Harness, captured_log: CapturedLog) -> None:
    """A multipart form cut off before its closing boundary is refused, and no chat is started."""
    client = await harness.console()
    body = '--XyZ\r\nContent-Disposition: form-data; name="body"\r\n\r\nhello, I need'
    response = await client.client.post(
        "/chat/send",
        data=body.encode(),
        headers={"Content-Type": "multipart/form-data; boundary=XyZ", "Sec-Fetch-Site": "same-origin"},
    )
    assert 400 <= response.status < 500
    assert harness.rows("SELECT COUNT(*) FROM conversations")[0][0] == 0
    assert_no_crash(captured_log)


async def test_a_chat_form_with_an_encoded_surrogate_is_no_crash(harness: Harness, captured_log: CapturedLog) -> None:
    """A chat form holding the bytes of U+D800 (not valid UTF-8) is read with a replacement character."""
    client = await harness.console()
    response = await client.client.post(
        "/chat/send",
        data=b"body=%ED%A0%80hello&message_id=abcdefgh12345678",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status == 200
    assert "\ufffdhello" in await response.text()
    assert_no_crash(captured_log)
