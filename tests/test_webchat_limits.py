"""Web chat's limits: each refusal is a clear frame, and each limit lets go when its window has passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpline.channels.webchat.limits import NetworkTags, RateLimiter
from helpline.channels.webchat.tokens import HmacKey
from helpline.channels.webchat.waiting import WaitEstimate
from helpline.core.networks import UNKNOWN, forwarded_address, network_of
from helpline.settings import Settings
from tests.conftest import FakeClock, Harness
from tests.test_webchat_socket import ChatClient


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(
        "webchat",
        max_concurrent=2,
        session_messages_per_minute=3,
        network_messages_per_minute=5,
        network_chats_per_hour=3,
        network_connections=3,
    )


async def test_fast_sender_is_told_to_slow_down_then_let_through(harness: Harness) -> None:
    """The fourth message in a minute is refused with a wait; after the minute it goes through."""
    contact = ChatClient(harness)
    try:
        await contact.connect()
        for n in range(3):
            assert (await contact.say(f"message {n}"))["type"] == "ack"
        refused = await contact.say("one too many")
        assert refused["code"] == "slow_down" and refused["retry_after"] >= 1
        assert "quickly" in refused["message"]
        harness.clock.advance(seconds=60)
        assert (await contact.say("after a pause"))["type"] == "ack"
    finally:
        await contact.aclose()


async def test_one_network_shares_a_message_budget(harness: Harness) -> None:
    """Chats from one network together get the network's budget; the next message is refused clearly."""
    first, second = ChatClient(harness), ChatClient(harness)
    try:
        await first.connect()
        await second.connect()
        answers = [await client.say(f"hello {n}") for n in range(3) for client in (first, second)]
        codes = [a.get("code", "ack") for a in answers]
        assert codes == ["ack"] * 5 + ["network_busy"]
    finally:
        await first.aclose()
        await second.aclose()


async def test_busy_chat_refuses_a_new_chat_with_signposting(harness: Harness) -> None:
    """Beyond max_concurrent, a new chat's first message is refused with a busy message naming 999."""
    clients = [ChatClient(harness) for _ in range(3)]
    try:
        for client in clients[:2]:
            await client.connect()
            assert (await client.say("hi"))["type"] == "ack"
        await clients[2].connect()
        refused = await clients[2].say("hi")
        assert refused["code"] == "busy" and "999" in refused["message"]
    finally:
        for client in clients:
            await client.aclose()


async def test_too_many_connections_from_one_network_are_closed_with_a_reason(harness: Harness) -> None:
    """A network over its connection limit gets an error frame and close code 4429."""
    clients = [ChatClient(harness) for _ in range(4)]
    try:
        for client in clients[:3]:
            await client.connect()
        await clients[3].open()
        refusal = await clients[3].next("error")
        assert refusal["code"] == "too_many_connections"
        assert await clients[3].closed() == (4429, "Too many chats from your network")
        await clients[0].drop()
        await clients[0].connect()  # a closed connection frees its place
    finally:
        for client in clients:
            await client.aclose()


def test_networks_are_slash_24_and_slash_48() -> None:
    """Addresses in one /24 or /48 are one network; an IPv4-mapped IPv6 address counts as IPv4."""
    assert network_of("192.0.2.1") == network_of("192.0.2.254") != network_of("192.0.3.1")
    assert network_of("::ffff:192.0.2.7") == network_of("192.0.2.1")
    assert network_of("2001:db8:1:2::1") == network_of("2001:db8:1:3:ffff::9") != network_of("2001:db8:2:2::1")
    assert network_of("not an address") == network_of("")
    assert network_of("") == UNKNOWN


def test_only_the_entry_our_own_proxies_wrote_is_believed() -> None:
    """The client is the entry ``hops`` from the end of X-Forwarded-For; with fewer entries, none is believed."""
    assert forwarded_address("203.0.113.9, 192.0.2.1", 1) == "192.0.2.1"
    assert forwarded_address("203.0.113.9, 192.0.2.1", 2) == "203.0.113.9"
    assert forwarded_address("192.0.2.1", 2) is None
    assert forwarded_address("192.0.2.1", 0) is None


def test_network_tags_are_keyed_and_hold_no_address() -> None:
    """A network's tag depends on the key and never contains the address's bytes."""
    first, second = NetworkTags(HmacKey(b"k" * 32)), NetworkTags(HmacKey(b"j" * 32))
    assert first.tag("192.0.2.1") == first.tag("192.0.2.200") != second.tag("192.0.2.1")
    assert bytes([192, 0, 2]) not in first.tag("192.0.2.1")


def test_rate_limiter_forgets_a_key_once_its_window_has_passed() -> None:
    """A bucket exists only while its window lasts: after it, sweep leaves nothing about the key."""
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    limiter = RateLimiter(clock, capacity=2, window=timedelta(minutes=1))
    assert limiter.take("net") is None
    assert limiter.take("net") is None
    wait = limiter.take("net")
    assert wait is not None and 29 <= wait <= 31
    limiter.sweep()
    assert len(limiter) == 1
    clock.advance(seconds=60)
    limiter.sweep()
    assert len(limiter) == 0


def test_wait_estimate_learns_the_pace_of_claims() -> None:
    """With no claims seen the configured pace is used; with some, the measured one."""
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    estimate = WaitEstimate(clock, minutes_per_place=5)
    assert estimate.words(3) == "about 15 minutes"
    for _ in range(4):
        estimate.claimed()
        clock.advance(minutes=1)
    assert estimate.words(3) == "less than 5 minutes"
    assert estimate.words(100) == "more than an hour"
