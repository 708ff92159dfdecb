"""Rate limits for web chat, per chat and per network, counted in memory for their window only.

A *network* is an IPv4 /24 or an IPv6 /48 (an IPv4-mapped IPv6 address counts as IPv4): a household,
school or phone network shares one budget, and an address cannot dodge a limit by moving within its
network. IPv6 is taken at /48, the usual allocation to one site, because a site gets 65,536 /64s: at /64
one subscriber could open as many networks as it liked. The network is never kept as an address:
``NetworkTags`` turns it into a keyed HMAC at once, and that tag is the only key the counters hold.

Each limit is a token bucket: up to ``capacity`` takes, refilled evenly over ``window``. A bucket that
has refilled completely says nothing a fresh one would not, so ``sweep`` drops it: no counter outlives the
window in which it was last used, and nothing about a network stays in memory after that.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from helpline.channels.webchat.tokens import Keyed
from helpline.clock import Clock

UNKNOWN_NETWORK = b"unknown"


def network_of(address: str) -> bytes:
    """The /24 (IPv4) or /48 (IPv6) an address belongs to, as bytes; ``UNKNOWN_NETWORK`` if unreadable."""
    try:
        ip = ipaddress.ip_address(address.strip().split("%", 1)[0])
    except ValueError:
        return UNKNOWN_NETWORK
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv4Address):
        return b"4" + ip.packed[:3]
    return b"6" + ip.packed[:6]


def client_address(request: web.Request, trusted_proxy_hops: int) -> str:
    """The client's address: the connection's, or the one our own proxies recorded in X-Forwarded-For."""
    if trusted_proxy_hops > 0:
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
        if len(forwarded) >= trusted_proxy_hops:
            return forwarded[-trusted_proxy_hops]
    return request.remote or ""


class NetworkTags:
    """Keyed HMACs of networks: rate limits can tell networks apart without holding one."""

    def __init__(self, key: Keyed) -> None:
        self._key = key

    def tag(self, address: str) -> bytes:
        return self._key.digest(b"helpline/webchat/network\x00" + network_of(address))


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


@dataclass(frozen=True)
class Limits:
    """Every web chat limit, so the channel's parts share one set of counters."""

    session_messages: RateLimiter
    network_messages: RateLimiter
    network_chats: RateLimiter
    connections: ConnectionCounter

    def sweep(self) -> None:
        for limiter in (self.session_messages, self.network_messages, self.network_chats):
            limiter.sweep()
