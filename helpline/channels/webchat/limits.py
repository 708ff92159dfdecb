"""Rate limits for web chat, per chat and per network, counted for their window only: in memory, or where
several instances share a PostgreSQL database, in an unlogged table there, so they hold for the helpline.

A *network* is an IPv4 /24 or an IPv6 /48 (``helpline.core.networks`` says why). It is never kept as an
address: ``NetworkTags`` turns it into a keyed HMAC at once, and that tag is the only key the counters hold.

Each limit is a token bucket: up to ``capacity`` takes, refilled evenly over ``window``. A bucket that
has refilled completely says nothing a fresh one would not, so ``sweep`` drops it: no counter outlives the
window in which it was last used, and nothing about a network stays in memory after that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from helpline.channels.webchat.tokens import Keyed
from helpline.clock import Clock
from helpline.core.networks import forwarded_address, network_of
from helpline.core.ports import SharedLimits


def client_address(request: web.Request, trusted_proxy_hops: int) -> str:
    """The client's address: the one our own proxies recorded in X-Forwarded-For, else the connection's."""
    forwarded = forwarded_address(request.headers.get("X-Forwarded-For", ""), trusted_proxy_hops)
    return forwarded if forwarded is not None else request.remote or ""


class NetworkTags:
    """Keyed HMACs of networks: rate limits can tell networks apart without holding one."""

    def __init__(self, key: Keyed) -> None:
        self._key = key

    def tag(self, address: str) -> bytes:
        return self._key.digest(b"helpline/webchat/network\x00" + network_of(address).encode())


@dataclass
class _Bucket:
    tokens: float
    updated: datetime


class RateLimiter:
    """``capacity`` takes per ``window`` for each key, as a token bucket."""

    def __init__(self, clock: Clock, *, capacity: int, window: timedelta) -> None:
        self._clock = clock
        self._capacity = float(capacity)
        self._rate = capacity / window.total_seconds()
        self._buckets: dict[Hashable, _Bucket] = {}

    def take(self, key: Hashable) -> float | None:
        """Use one; None if allowed, else the seconds to wait before one is available."""
        now = self._clock.now()
        bucket = self._refilled(key, now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            self._buckets[key] = bucket
            return None
        self._buckets[key] = bucket
        return (1.0 - bucket.tokens) / self._rate

    def sweep(self) -> None:
        """Forget every key whose bucket has refilled: its window has passed."""
        now = self._clock.now()
        for key in [k for k in self._buckets if self._refilled(k, now).tokens >= self._capacity]:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)

    def _refilled(self, key: Hashable, now: datetime) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            return _Bucket(self._capacity, now)
        elapsed = max((now - bucket.updated).total_seconds(), 0.0)
        return _Bucket(min(self._capacity, bucket.tokens + elapsed * self._rate), now)


class ConnectionCounter:
    """Open connections per network, capped; a network's count is forgotten when it reaches zero."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._open: dict[bytes, int] = {}

    def open(self, network: bytes) -> bool:
        """Count one more connection; False (and nothing counted) when the network is at its limit."""
        current = self._open.get(network, 0)
        if current >= self._limit:
            return False
        self._open[network] = current + 1
        return True

    def close(self, network: bytes) -> None:
        remaining = self._open.get(network, 0) - 1
        if remaining > 0:
            self._open[network] = remaining
        else:
            self._open.pop(network, None)

    def __len__(self) -> int:
        return len(self._open)


class Limit:
    """One rate limit: in this process's memory, or where instances share a database, in it (``SharedLimits``)."""

    def __init__(
        self, name: str, clock: Clock, *, capacity: int, window: timedelta, shared: SharedLimits | None = None
    ) -> None:
        self._name = name
        self._clock = clock
        self._capacity = capacity
        self._window = window
        self._shared = shared
        self.memory = RateLimiter(clock, capacity=capacity, window=window)

    async def take(self, key: bytes) -> float | None:
        """Use one; None if allowed, else the seconds to wait before one is available."""
        if self._shared is None:
            return self.memory.take(key)
        return await self._shared.take(self._name, key, self._capacity, self._window, self._clock.now())


@dataclass(frozen=True)
class Limits:
    """Every web chat limit, so the channel's parts share one set of counters."""

    session_messages: Limit
    network_messages: Limit
    network_chats: Limit
    connections: ConnectionCounter

    def sweep(self) -> None:
        for limit in (self.session_messages, self.network_messages, self.network_chats):
            limit.memory.sweep()


def chat_key(address: str) -> bytes:
    """A chat's random address as a limit's key: a hash, so a shared table never holds the address."""
    return hashlib.sha256(b"helpline/webchat/chat\x00" + address.encode()).digest()
