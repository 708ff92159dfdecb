"""Bad frames on the chat socket get a clear error frame or close code, and everyone else is still served."""

from __future__ import annotations

import pytest

from tests.conftest import Harness
from tests.test_webchat_socket import ChatClient


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("this is not json", "bad_frame"),
        ("[1, 2, 3]", "bad_frame"),
        ('{"type": "launch_missiles"}', "unknown_type"),
        ('{"type": "message", "id": "short", "body": "x"}', "bad_frame"),
        ('{"type": "message", "id": "abcdefgh12345678", "body": 42}', "bad_frame"),
        ('{"type": "typing", "active": "yes"}', "bad_frame"),
        ('{"type": "end", "reason": "because"}', "bad_frame"),
        ('{"type": "hello", "token": null, "after": 0}', "bad_frame"),
    ],
)
async def test_malformed_frame_gets_an_error_frame_and_the_chat_goes_on(harness: Harness, raw: str, code: str) -> None:
    """Each malformed or unknown frame is answered with an error frame; the socket stays usable."""
    contact = ChatClient(harness)
    try:
        await contact.connect()
        assert contact.ws is not None
        await contact.ws.send_str(raw)
        error = await contact.next("error")
        assert error["code"] == code and error["message"]
        assert (await contact.say("still here"))["type"] == "ack"
    finally:
        await contact.aclose()


async def test_binary_frame_is_refused(harness: Harness) -> None:
    """A binary frame gets an error frame saying the chat reads text only."""
    contact = ChatClient(harness)
    try:
        await contact.connect()
        assert contact.ws is not None
        await contact.ws.send_bytes(b"\x00\x01")
        assert (await contact.next("error"))["code"] == "bad_frame"
    finally:
        await contact.aclose()


async def test_message_before_hello_closes_with_a_reason(harness: Harness) -> None:
    """A socket that does not start with hello is closed with 4400 and says why."""
    contact = ChatClient(harness)
    try:
        ws = await contact.open()
        await ws.send_json({"type": "message", "id": "abcdefgh12345678", "body": "hi"})
        assert await contact.closed() == (4400, "The first frame must be a hello")
    finally:
        await contact.aclose()


async def test_oversized_frame_is_closed_as_too_big(harness: Harness) -> None:
    """A frame over the socket's size limit is closed with 1009 (message too big)."""
    contact = ChatClient(harness)
    try:
        await contact.connect()
        assert contact.ws is not None
        await contact.ws.send_str('{"type":"message","id":"abcdefgh12345678","body":"' + "x" * 200_000 + '"}')
        code, _ = await contact.closed()
        assert code == 1009
    finally:
        await contact.aclose()


async def test_flood_of_bad_frames_is_cut_off(harness: Harness) -> None:
    """After twenty unreadable frames the socket is closed with 1008 and a reason."""
    contact = ChatClient(harness)
    try:
        await contact.connect()
        assert contact.ws is not None
        for _ in range(25):
            await contact.ws.send_str("{")
        assert await contact.closed() == (1008, "Too many frames the chat could not read")
    finally:
        await contact.aclose()


async def test_server_keeps_serving_others_after_bad_input(harness: Harness) -> None:
    """While one socket sends garbage and is closed, another contact chats undisturbed."""
    attacker, contact = ChatClient(harness), ChatClient(harness)
    try:
        await contact.connect()
        await attacker.connect()
        assert attacker.ws is not None
        for _ in range(25):
            await attacker.ws.send_str("\x00garbage")
        await attacker.closed()
        assert (await contact.say("am I still connected?"))["type"] == "ack"
        assert contact.bodies("you") == ["am I still connected?"]
    finally:
        await attacker.aclose()
        await contact.aclose()
