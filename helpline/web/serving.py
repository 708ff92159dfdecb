"""Serving the application on a socket, with the deadlines and the quiet headers aiohttp leaves to us.

- **Headers**: a connection whose first request line and headers have not all arrived ``header_timeout``
  after it opened is closed (``_HeaderDeadline`` watches the bytes for the blank line that ends them). Once
  a connection has sent a whole request, aiohttp's keep-alive timer takes over: a kept-alive connection that
  waits ``KEEPALIVE_SECONDS`` for its next whole request is closed. That is longer than the idle time of a
  proxy's connections to the server (nginx keeps them 60 s), so a proxy never reuses one the server is
  closing; a client that completes one request quickly and then dribbles the next is held at most that long.
- **Body**: ``body_deadline`` reads a request's whole body before its handler runs; one that has not
  arrived ``body_timeout`` after its headers gets 408 and the connection is closed. A body cut short (the
  client went away, a broken chunked encoding) gets 400. Bodies are small here (``client_max_size``), so
  reading them first costs nothing.
- **Server header**: every answer says ``Server: helpline`` — no language, library or version — the ones
  aiohttp writes itself for a request it cannot parse included.

Slow *readers* of large answers are not a concern: every answer is small. A reverse proxy in front should
still buffer requests and set its own timeouts (README, "Put it behind a reverse proxy").
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Middleware

from helpline.log import get_logger
from helpline.web.middleware import REQUEST_ID, SERVER_NAME, error_response

log = get_logger("helpline.http")
KEEPALIVE_SECONDS = 75.0
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def body_deadline(timeout: float) -> Middleware:
    """Middleware: read the request's body within ``timeout`` seconds before the handler sees it."""

    @web.middleware
    async def read_body_in_time(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method in _WITH_BODY and request.body_exists:
            try:
                async with asyncio.timeout(timeout):
                    await request.read()  # kept by aiohttp: the handler's read(), post() and json() use it
            except TimeoutError:
                log.info("http.body_timeout")
                return _closing(request, 408, "The request took too long to arrive.")
            except (ConnectionError, HttpProcessingError) as exc:
                log.info("http.body_incomplete", error=type(exc).__name__)
                return _closing(request, 400, "The request arrived incomplete.")
        return await handler(request)

    return read_body_in_time


def _closing(request: web.Request, status: int, message: str) -> web.Response:
    """An error answer after which the connection is closed (what is left of the body is never read)."""
    response = error_response(status, message, request[REQUEST_ID])
    response.force_close()
    return response


class _RequestHandler(web.RequestHandler):
    """aiohttp's connection handler; its own answer to a request it cannot parse names no version either."""

    def handle_error(
        self, request: Any, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        response = super().handle_error(request, status, exc, message)
        response.headers["Server"] = SERVER_NAME
        return response


class _HeaderDeadline(asyncio.Protocol):
    """A connection's aiohttp handler, closed if its first request's headers are not all in by the deadline."""

    def __init__(self, handler: web.RequestHandler, timeout: float) -> None:
        self._handler = handler
        self._timeout = timeout
        self._timer: asyncio.TimerHandle | None = None
        self._tail = b""  # the last bytes seen, for a blank line split between two reads
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self._timer = asyncio.get_running_loop().call_later(self._timeout, self._expired)
        self._handler.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._timer is not None:
            seen = self._tail + data
            if b"\r\n\r\n" in seen or b"\n\n" in seen:
                self._disarm()
            else:
                self._tail = seen[-3:]
        self._handler.data_received(data)

    def eof_received(self) -> None:
        self._handler.eof_received()  # aiohttp's returns nothing: the transport closes on EOF

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._handler.connection_lost(exc)

    def pause_writing(self) -> None:
        self._handler.pause_writing()

    def resume_writing(self) -> None:
        self._handler.resume_writing()

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._tail = b""

    def _expired(self) -> None:
        self._timer = None
        log.info("http.header_timeout")
        if self._transport is not None:
            self._transport.close()


class HelplineSite(web.BaseSite):
    """A TCP site whose connections get the header deadline and the quiet ``Server`` header."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, *, header_timeout: float) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        self._header_timeout = header_timeout

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        manager = self._runner.server
        assert manager is not None  # noqa: S101 - the runner is set up before its sites start
        # No access log of aiohttp's (request_context writes ours), and no lingering: a body left unread (one
        # that missed its deadline) is not drained for another ten seconds, its connection is closed.
        options: dict[str, Any] = {"keepalive_timeout": KEEPALIVE_SECONDS, "access_log": None, "lingering_time": 0}
        timeout = self._header_timeout

        def connection() -> _HeaderDeadline:
            return _HeaderDeadline(_RequestHandler(manager, loop=loop, **options), timeout)

        self._server = await loop.create_server(connection, self._host, self._port, reuse_address=True)


async def start(app: web.Application, host: str, port: int, *, header_timeout: float) -> web.AppRunner:
    """Start serving ``app`` on ``host:port``; the caller ends it with ``runner.cleanup()``."""
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=KEEPALIVE_SECONDS)
    await runner.setup()
    await HelplineSite(runner, host, port, header_timeout=header_timeout).start()
    return runner


async def serve_forever(app: web.Application, host: str, port: int, *, header_timeout: float) -> None:
    """Serve until SIGINT or SIGTERM, then close every connection and the application."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = await start(app, host, port, header_timeout=header_timeout)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
