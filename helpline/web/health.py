"""``/healthz``: the process answers. ``/readyz``: and its database does too; it also says whether the risk
scanner's meaning layer runs (``meaning_layer``: "on" or "off", with the model or the reason). A server
without it is still ready: the lexicon alone scans every message."""

from __future__ import annotations

from aiohttp import web

from helpline.core.ports import Store
from helpline.errors import StoreError


class Health:
    def __init__(self, store: Store, *, meaning_on: bool = False, meaning: str = "") -> None:
        self._store = store
        self._meaning = {"meaning_layer": "on" if meaning_on else "off", "meaning_layer_detail": meaning}

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, request: web.Request) -> web.Response:
        try:
            await self._store.ping()
        except (StoreError, OSError, ValueError):
            return web.json_response({"status": "unavailable", "database": "unreachable", **self._meaning}, status=503)
        return web.json_response({"status": "ok", "database": "ok", **self._meaning})
