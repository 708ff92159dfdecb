"""``/healthz``: the process answers. ``/readyz``: and its database does too; it also says whether the risk
scanner's meaning layer runs (``meaning_layer``: "on" or "off", with the model or the reason). A server
without it is still ready: the lexicon alone scans every message."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from helpline.core.ports import Store
from helpline.errors import StoreError


class Health:
    def __init__(self, store: Store, *, meaning: Callable[[], tuple[bool, str]] = lambda: (False, "")) -> None:
        """``meaning`` says, when asked, whether the meaning layer runs and its model, or why not."""
        self._store = store
        self._meaning_state = meaning

    @property
    def _meaning(self) -> dict[str, str]:
        on, detail = self._meaning_state()
        return {"meaning_layer": "on" if on else "off", "meaning_layer_detail": detail}

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, request: web.Request) -> web.Response:
        try:
            await self._store.ping()
        except (StoreError, OSError, ValueError):
            return web.json_response({"status": "unavailable", "database": "unreachable", **self._meaning}, status=503)
        return web.json_response({"status": "ok", "database": "ok", **self._meaning})
