"""The console's HTML pages: static files that load their data from the JSON API."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"


class Pages:
    """Serves the console's page shells."""

    def __init__(self, static_dir: Path = STATIC) -> None:
        self._dir = static_dir

    def _page(self, name: str) -> web.FileResponse:
        return web.FileResponse(self._dir / name, headers={"Content-Type": "text/html; charset=utf-8"})

    async def root(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/console")

    async def favicon(self, request: web.Request) -> web.StreamResponse:
        # No icon: answering 204 keeps browsers from logging a 404 on every page.
        return web.Response(status=204)

    async def login(self, request: web.Request) -> web.StreamResponse:
        return self._page("login.html")

    async def queue(self, request: web.Request) -> web.StreamResponse:
        return self._page("console.html")

    async def conversation(self, request: web.Request) -> web.StreamResponse:
        return self._page("conversation.html")
