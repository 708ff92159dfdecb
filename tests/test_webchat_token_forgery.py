"""Forged, expired and ended chat tokens are refused with a reason, and no other site can drive a chat."""

from __future__ import annotations

from datetime import timedelta

import aiohttp

from helpline.channels.webchat.tokens import ChatTokens, HmacKey, TokenProblem
from tests.conftest import FakeClock, Harness
from tests.test_webchat_socket import ChatClient


def forged_token(harness: Harness) -> str:
    """A well-formed token signed with a key that is not the server's."""
    return ChatTokens(HmacKey(b"not the server's key" * 2), harness.clock, max_age=timedelta(hours=1)).issue().text


async def test_forged_token_is_refused_with_4401(harness: Harness) -> None:
    """A token the server did not sign gets an error frame and close code 4401."""
    contact = ChatClient(harness)
    try:
        await contact.open()
        assert contact.ws is not None
        await contact.ws.send_json({"type": "hello", "token": forged_token(harness), "after": 0})
        assert (await contact.next("error"))["code"] == "bad_token"
        assert await contact.closed() == (4401, "Chat not found")
    finally:
        await contact.aclose()


async def test_tampered_token_is_refused(harness: Harness) -> None:
    """Changing any part of a real token makes it a forgery."""
    contact = ChatClient(harness)
    try:
        await contact.connect()
        assert contact.token is not None
        version, secret, issued, tag = contact.token.split(".")
        for tampered in (f"{version}.{secret}.{int(issued) + 1}.{tag}", f"{version}.{secret[::-1]}.{issued}.{tag}"):
            probe = ChatClient(harness)
            try:
                await probe.open()
                assert probe.ws is not None
                await probe.ws.send_json({"type": "hello", "token": tampered, "after": 0})
                assert (await probe.closed())[0] == 4401
            finally:
                await probe.aclose()
    finally:
        await contact.aclose()


async def test_expired_token_is_refused_with_4410(harness: Harness) -> None:
    """A token past webchat.session_max_hours is refused as ended."""
    contact = ChatClient(harness)
    try:
        await contact.connect()
        await contact.drop()
        harness.clock.advance(hours=harness.settings.webchat.session_max_hours)
        await contact.open()
        assert contact.ws is not None
        await contact.ws.send_json({"type": "hello", "token": contact.token, "after": 0})
        assert (await contact.next("error"))["code"] == "ended"
        assert await contact.closed() == (4410, "This chat has ended")
    finally:
        await contact.aclose()


async def test_ended_chat_token_cannot_be_reused(harness: Harness) -> None:
    """Once a chat has ended (say by quick exit) its token opens nothing, even to someone who copied it."""
    contact = ChatClient(harness)
    try:
        await contact.connect()
        await contact.say("please help")
        assert contact.ws is not None
        await contact.ws.send_json({"type": "end", "reason": "quick_exit"})
        await contact.next("ended")
        await contact.closed()
        copied = ChatClient(harness)
        try:
            await copied.open()
            assert copied.ws is not None
            await copied.ws.send_json({"type": "hello", "token": contact.token, "after": 0})
            assert (await copied.closed())[0] == 4410
            assert copied.messages == {}
        finally:
            await copied.aclose()
    finally:
        await contact.aclose()


async def test_socket_from_another_site_is_refused(harness: Harness) -> None:
    """A page on another origin cannot open the chat socket."""
    contact = ChatClient(harness, origin="https://evil.example")
    try:
        try:
            await contact.open()
        except aiohttp.WSServerHandshakeError as refused:
            assert refused.status == 403
        else:
            raise AssertionError("the socket opened for another origin")
    finally:
        await contact.aclose()


async def test_cross_site_form_post_cannot_start_a_chat(harness: Harness) -> None:
    """A form on another site posting to /chat/send is refused and nothing is stored."""
    client = await harness.console()
    response = await client.client.post(
        "/chat/send", data={"body": "spam", "message_id": "abcdefgh12345678"}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status == 403
    assert harness.rows("SELECT COUNT(*) FROM messages") == [(0,)]


def test_token_verification_unit(clock: FakeClock) -> None:
    """Tokens verify under their key until they expire; garbage is a forgery, not an error."""
    tokens = ChatTokens(HmacKey(b"k" * 32), clock, max_age=timedelta(hours=1))
    token = tokens.issue()
    verified = tokens.verify(token.text)
    assert not isinstance(verified, TokenProblem) and verified.address == token.address
    assert token.text not in repr(token) and token.address not in repr(token)
    for garbage in ("", "v1", "v1.a.b.c", "v1.!!!!.1.abc", "x" * 500, "v1.é.1.a"):
        assert tokens.verify(garbage) is TokenProblem.FORGED
    clock.advance(hours=1)
    assert tokens.verify(token.text) is TokenProblem.EXPIRED
