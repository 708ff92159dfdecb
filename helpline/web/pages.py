"""The console's HTML pages: static shells that load their data from the JSON API.

What every signed-in page shares is kept once, in ``partials/``: its stylesheet and common scripts
(``console-head.html``) and its header (``console-header.html``: skip link, navigation, who is signed in and
their availability, the session-ended banner, safeguarding alerts). A page names a partial on a line of its
own, ``<!-- include NAME: what it is -->``; each page is put together once, when its route is made.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"
PARTIALS = Path(__file__).parent / "partials"
# A line that stands for a partial: ``  <!-- include console-header.html: skip link, ... -->``.
INCLUDE = re.compile(r"^[ \t]*<!-- include ([a-z-]+\.html)\b[^\n]*-->\n", re.MULTILINE)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Pages:
    """Serves the console's page shells."""

    def __init__(self, static_dir: Path = STATIC, partials_dir: Path = PARTIALS) -> None:
        self._dir = static_dir
        self._partials = partials_dir
        # The files /static serves, named at start: a request names one of them or gets 404, so no path a
        # client sends (however long, whatever it holds) ever reaches the file system.
        self._assets = {path.name: path for path in static_dir.iterdir() if path.is_file()}

    def page(self, name: str) -> Handler:
        body = self.assemble(name).encode("utf-8")

        async def serve(request: web.Request) -> web.StreamResponse:
            return web.Response(body=body, content_type="text/html", charset="utf-8")

        return serve

    def assemble(self, name: str) -> str:
        """A page's HTML with its partials put in (for a page whose content is rendered on the server)."""
        return INCLUDE.sub(self._partial, (self._dir / name).read_text(encoding="utf-8"))

    def _partial(self, include: re.Match[str]) -> str:
        return (self._partials / include[1]).read_text(encoding="utf-8")

    async def asset(self, request: web.Request) -> web.StreamResponse:
        """One of the console's static files (scripts, styles, page shells), by name."""
        path = self._assets.get(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    async def root(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/console")

    async def favicon(self, request: web.Request) -> web.StreamResponse:
        # No icon: answering 204 keeps browsers from logging a 404 on every page.
        return web.Response(status=204)
