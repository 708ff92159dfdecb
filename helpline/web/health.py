"""``/healthz``: the process answers. ``/readyz``: and its database does too."""

from __future__ import annotations

from aiohttp import web

from helpline.core.ports import Store
from helpline.errors import StoreError


class Health:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, request: web.Request) -> web.Response:
        try:
            await self._store.ping()
        except (StoreError, OSError, ValueError):
            return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
        return web.json_response({"status": "ok", "database": "ok"})
