"""The console's HTML pages: static shells that load their data from the JSON API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Pages:
    """Serves the console's page shells."""

    def __init__(self, static_dir: Path = STATIC) -> None:
        self._dir = static_dir

    def page(self, name: str) -> Handler:
        path = self._dir / name

        async def serve(request: web.Request) -> web.StreamResponse:
            return web.FileResponse(path, headers={"Content-Type": "text/html; charset=utf-8"})

        return serve

    async def root(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/console")

    async def favicon(self, request: web.Request) -> web.StreamResponse:
        # No icon: answering 204 keeps browsers from logging a 404 on every page.
        return web.Response(status=204)
