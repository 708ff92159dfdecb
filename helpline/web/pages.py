"""The console's HTML pages: static shells that load their data from the JSON API.

Every signed-in page shares one header (skip link, navigation, who is signed in and their availability,
the session-ended banner, safeguarding alerts), kept once in ``partials/console-header.html``; a page marks
where it goes with ``HEADER_MARK``. Each page is put together once, when its route is made.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"
PARTIALS = Path(__file__).parent / "partials"
# The line a page holds where the shared header goes (its comment names the file, for whoever reads the page).
HEADER_MARK = "  <!-- console header: skip link, navigation, who is signed in (web/partials/console-header.html) -->\n"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Pages:
    """Serves the console's page shells."""

    def __init__(self, static_dir: Path = STATIC, partials_dir: Path = PARTIALS) -> None:
        self._dir = static_dir
        self._header = (partials_dir / "console-header.html").read_text(encoding="utf-8")

    def page(self, name: str) -> Handler:
        body = (self._dir / name).read_text(encoding="utf-8").replace(HEADER_MARK, self._header).encode("utf-8")

        async def serve(request: web.Request) -> web.StreamResponse:
            return web.Response(body=body, content_type="text/html", charset="utf-8")

        return serve

    async def root(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/console")

    async def favicon(self, request: web.Request) -> web.StreamResponse:
        # No icon: answering 204 keeps browsers from logging a 404 on every page.
        return web.Response(status=204)
