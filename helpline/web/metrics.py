"""``/metrics``: Prometheus counts — never an identifier, an address or text.

Event counts come from the event bus (how many of each event since start); the rest is read when scraped
(the queue, live sockets, the store's group commits, the intake's counts). A name ending in ``_total`` is a
count since start, typed ``counter``; anything else is a ``gauge``. Restrict the endpoint at the proxy if
the operator wants the counts private; they say how busy the helpline is, nothing about anyone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from aiohttp import web

from helpline.core.ports import Notifier, Store


class Metrics:
    """Counts events as they are published, and renders the Prometheus text format."""

    def __init__(self, notifier: Notifier, store: Store, readings: dict[str, Callable[[], float]]) -> None:
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
