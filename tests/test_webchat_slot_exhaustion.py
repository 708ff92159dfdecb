"""Slot exhaustion: a few networks cannot take every place in the web chat and keep them.

The attack: from two networks (two /24s, or two IPv6 /64s), start chats until ``webchat.max_concurrent`` is
reached — one message each, then leave — and the chat is full for everyone for the whole idle timeout.
Now each network holds at most ``network_live_chats`` places, IPv6 counts per /48, and a chat that sent
only its first message and left is ended after ``first_message_grace``.
"""

from __future__ import annotations

import aiohttp
import pytest

from helpline.settings import Settings
from tests.conftest import Harness
from tests.test_webchat_socket import TIMEOUT, ChatClient

GRACE = 180.0


class NetworkChat(ChatClient):
    """A contact's browser on a given network, as the reverse proxy reports it in X-Forwarded-For."""

    def __init__(self, harness: Harness, address: str) -> None:
        super().__init__(harness)
        self.address = address

    async def open(self) -> aiohttp.ClientWebSocketResponse:
        self.ws = await self.session.ws_connect(
            self.url,
            headers={"Origin": self._harness.settings.server.public_url, "X-Forwarded-For": self.address},
            timeout=aiohttp.ClientWSTimeout(ws_close=TIMEOUT),
        )
        return self.ws


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(
        "webchat", max_concurrent=6, network_live_chats=2, trusted_proxy_hops=1, first_message_grace_seconds=GRACE
    )


async def start(harness: Harness, address: str, opened: list[NetworkChat]) -> dict[str, object]:
    """Open a chat from ``address`` and send its first message; the ack or the refusal."""
    chat = NetworkChat(harness, address)
    opened.append(chat)
    await chat.connect()
    return await chat.say("hello")


async def test_two_networks_cannot_fill_the_chat(harness: Harness) -> None:
    """Each network gets network_live_chats places, IPv6 per /48; a third network still gets in."""
    opened: list[NetworkChat] = []
    try:
        answers = [await start(harness, f"192.0.2.{n}", opened) for n in (1, 2, 3)]
        assert [a.get("code", a["type"]) for a in answers] == ["ack", "ack", "network_full"]
        assert "999" in str(answers[2]["message"])
        # Three different /64s of one /48: one network.
        answers = [await start(harness, f"2001:db8:7:{n}::1", opened) for n in (1, 2, 3)]
        assert [a.get("code", a["type"]) for a in answers] == ["ack", "ack", "network_full"]
        assert (await start(harness, "198.51.100.7", opened))["type"] == "ack"
        assert harness.helpline.webchat is not None
        assert harness.helpline.webchat.registry.started() == 5
    finally:
        for chat in opened:
            await chat.aclose()


async def test_chats_that_sent_one_message_and_left_free_their_places(harness: Harness) -> None:
    """After the grace, a chat with only its first message and no page open ends, and its place is free."""
    assert harness.helpline.webchat is not None
    opened: list[NetworkChat] = []
    try:
        for n in (1, 2):
            assert (await start(harness, f"192.0.2.{n}", opened))["type"] == "ack"
            await opened[-1].drop()
        assert (await start(harness, "192.0.2.9", opened))["code"] == "network_full"
        harness.clock.advance(seconds=GRACE - 1)
        await harness.helpline.webchat.sweeper.run_once()
        assert harness.helpline.webchat.registry.started() == 2
        harness.clock.advance(seconds=2)
        await harness.helpline.webchat.sweeper.run_once()
        assert harness.helpline.webchat.registry.started() == 0
        assert harness.rows("SELECT contact_left_reason FROM conversations") == [("idle",), ("idle",)]
        assert (await start(harness, "192.0.2.10", opened))["type"] == "ack"
    finally:
        for chat in opened:
            await chat.aclose()


async def test_a_contact_who_stays_or_writes_again_keeps_the_place(harness: Harness) -> None:
    """A chat still open, or one that sent a second message before leaving, is not ended by the grace."""
    assert harness.helpline.webchat is not None
    opened: list[NetworkChat] = []
    try:
        assert (await start(harness, "192.0.2.1", opened))["type"] == "ack"  # stays connected
        assert (await start(harness, "192.0.2.2", opened))["type"] == "ack"
        assert (await opened[-1].say("are you there?"))["type"] == "ack"
        await opened[-1].drop()
        harness.clock.advance(seconds=GRACE * 2)
        await harness.helpline.webchat.sweeper.run_once()
        assert harness.helpline.webchat.registry.started() == 2
        assert harness.rows("SELECT contact_left_reason FROM conversations") == [(None,), (None,)]
    finally:
        for chat in opened:
            await chat.aclose()
