"""``/metrics``: Prometheus counts — never an identifier, an address or text.

Event counts come from the event bus (how many of each event since start); the rest is read when scraped
(the queue, live sockets, the store's group commits, the intake's counts). A name ending in ``_total`` is a
count since start, typed ``counter``; anything else is a ``gauge``.

The counts say nothing about anyone, but they show escalations and disclosures as they happen, so they are
not public: ``MetricsAccess`` lets in a request that carries the configured bearer token
(``server.metrics_token``), or one from this machine's loopback address that came through no proxy. A
request a proxy forwarded (it names a client in ``Forwarded``, ``X-Forwarded-For`` or ``X-Real-IP``) is
not "from this machine", even when the proxy runs here; nor is any request when a token is set.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections import Counter
from collections.abc import Callable

from aiohttp import web

from helpline.core.ports import Notifier, Store
from helpline.errors import Forbidden

_PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


class MetricsAccess:
    """Who may read ``/metrics``: a bearer of the token if one is set, else this machine only."""

    def __init__(self, token: str) -> None:
        self._token = token.encode("utf-8")

    def allows(self, request: web.Request) -> bool:
        if self._token:
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode("utf-8"), self._token)
        if any(name in request.headers for name in _PROXY_HEADERS):
            return False
        try:
            return ipaddress.ip_address(request.remote or "").is_loopback
        except ValueError:
            return False


class Metrics:
    """Counts events as they are published, and renders the Prometheus text format."""

    def __init__(
        self, notifier: Notifier, store: Store, readings: dict[str, Callable[[], float]], access: MetricsAccess
    ) -> None:
        self._access = access
        self._notifier = notifier
        self._store = store
        self._readings = readings
        self._events: Counter[str] = Counter()

    async def count(self) -> None:
        """Until cancelled: count every event on the bus by name."""
        subscription = self._notifier.subscribe()
        try:
            async for event in subscription:
                self._events[event.name] += 1
        finally:
            subscription.close()

    async def handle(self, request: web.Request) -> web.Response:
        if not self._access.allows(request):
            raise Forbidden("Metrics are served to this machine, or with the metrics token.")
        waiting, _ = await self._store.read(lambda tx: tx.conversations.waiting_stats())
        lines = [
            "# HELP helpline_events_total Events published since the server started, by kind.",
            "# TYPE helpline_events_total counter",
            *(f'helpline_events_total{{event="{name}"}} {count}' for name, count in sorted(self._events.items())),
            "# HELP helpline_waiting_conversations Conversations waiting in the queue.",
            "# TYPE helpline_waiting_conversations gauge",
            f"helpline_waiting_conversations {waiting}",
        ]
        for name, read in sorted(self._readings.items()):
            kind = "counter" if name.endswith("_total") else "gauge"
            lines += [f"# TYPE helpline_{name} {kind}", f"helpline_{name} {read()}"]
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain", charset="utf-8")
