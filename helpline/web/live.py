"""``/console/ws``: live updates for the console.

The socket is authenticated by the session cookie, and only the console's own pages may open it (the
``Origin`` must be the console's: a page elsewhere cannot ride a volunteer's cookie). After a
``hello`` frame carrying the current sequence number, every committed change is sent as an event frame
with the next one. Events carry ids only; the page fetches what it shows from the API. A socket that fell
behind sees a gap in the numbers (or is sent ``resync``) and reloads: the database is the source of truth.

The numbers are the console stream's own, the same for every socket, so each event is encoded once, as a
WebSocket frame, and the same bytes go to every socket: one bus subscription for all the sockets, and one
write per socket for all the events committed together, however many volunteers are connected. When quiet,
an event goes out at once. Under load, events are gathered between writes: a write to every socket (a
system call each) happens at most every ``FLUSH_SECONDS``, and never more often than keeps the writing
under ``FLUSH_SHARE`` of the server's time — with hundreds of consoles open, events wait a little longer
and are sent together, rather than the writes crowding out the work that makes them. A socket whose
unsent data passes ``MAX_BUFFERED`` is skipped until it drains; the gap tells its page to reload.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from helpline.clock import Clock
from helpline.core.events import Event
from helpline.core.ports import Notifier, PresenceBook, Subscription
from helpline.errors import Forbidden, NotSignedIn
from helpline.log import get_logger
from helpline.web.auth import SessionAuth

log = get_logger(__name__)
RESYNC = '{"type":"resync"}'
SESSION_ENDED = 4401
# RFC 6455 "service restart": the page reconnects (with backoff) and catches up from the API.
RESTARTING = 1012
CLOSE_SECONDS = 3.0
# Bytes a socket may have waiting to be sent before it is skipped (its page then reloads).
MAX_BUFFERED = 1024 * 1024
# Shortest time between two writes to the sockets: what a burst of events waits at most to be batched.
FLUSH_SECONDS = 0.01
# The most of the server's time that writing to the sockets may take under load (see the module's text).
FLUSH_SHARE = 0.2


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def event_json(seq: int, event: Event) -> str:
    """One event frame's JSON: ids only, the event's own ``seq`` renamed ``message_seq``."""
    # Events are flat (ids, numbers, flags): a shallow copy, without asdict's deep one.
    fields = {"event": event.name, **{f.name: getattr(event, f.name) for f in dataclasses.fields(event)}}
    if "seq" in fields:  # a message's own sequence number, not the frame's
        fields["message_seq"] = fields.pop("seq")
    return f'{{"type":"event","seq":{seq},{json.dumps(fields, separators=(",", ":"))[1:-1]}}}'


def text_frame(text: str) -> bytes:
    """A whole server-to-client WebSocket text frame (RFC 6455: FIN, opcode 1, unmasked, no extensions)."""
    payload = text.encode("utf-8")
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 1 << 16:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


async def _close(socket: web.WebSocketResponse) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):
        await socket.close(code=RESTARTING, message=b"The server is restarting")


class ConsoleLive:
    def __init__(
        self,
        auth: SessionAuth,
        notifier: Notifier,
        public_url: str,
        presence: PresenceBook,
        clock: Clock,
        *,
        heartbeat: float = 25.0,
    ) -> None:
        self._auth = auth
        self._presence = presence
        self._clock = clock
        self._notifier = notifier
        self._origin = origin_of(public_url)
        self._heartbeat = heartbeat
        self._seq = 0
        self._sockets: dict[web.WebSocketResponse, asyncio.Transport] = {}
        self._pending: list[bytes] = []
        self._flush_scheduled = False
        self._next_flush = 0.0
        self._broadcaster: asyncio.Task[None] | None = None
        self.connected = 0

    def _origin_allowed(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin", "")
        return origin in (self._origin, f"{request.scheme}://{request.host}")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not self._origin_allowed(request):
            raise Forbidden("Live updates are only for the console's own pages.")
        session = await self._auth.session(request)
        if not session.user.reads_conversations:
            # Events name conversations and escalations: an admin alone has nothing to follow live.
            raise Forbidden("Live updates are for volunteers and supervisors.")
        socket = web.WebSocketResponse(compress=False, heartbeat=self._heartbeat, max_msg_size=4096)
        try:
            await socket.prepare(request)
        except ConnectionResetError:  # the page went away during the handshake (a navigation): nothing to serve
            return socket
        transport = request.transport
        if transport is None:  # the client already left
            return socket
        self._start_broadcasting()
        # Nothing between numbering the hello and joining the fan-out can yield, so no event falls between.
        transport.write(text_frame(f'{{"type":"hello","seq":{self._seq}}}'))
        self._sockets[socket] = transport
        self.connected += 1
        # An open console is a live one: the user is present while it is (core/shift.py).
        user_id = session.user.id
        self._presence.opened(user_id, self._clock.now())
        try:
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    continue
                if not await self._still_signed_in(request):
                    await socket.close(code=SESSION_ENDED, message=b"session ended")
                    break
                if message.data == '{"type":"ping"}' or message.data.replace(" ", "") == '{"type":"ping"}':
                    self._presence.beat(user_id, self._clock.now())
                    await socket.send_str('{"type":"pong"}')
        finally:
            self._presence.closed(user_id, self._clock.now())
            self.connected -= 1
            self._sockets.pop(socket, None)
            if not self._sockets:
                await self._stop_broadcasting()
        log.info("console.socket_closed", user_id=session.user.id)
        return socket

    async def close_all(self, app: web.Application) -> None:
        """At shutdown: tell every console to reconnect, and close its socket, so that nothing holds the stop up."""
        sockets = list(self._sockets)
        log.info("console.closing_sockets", count=len(sockets))
        await self._stop_broadcasting()
        # All at once, and not for long: a console that does not answer its close must not hold the stop up.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_SECONDS):
                await asyncio.gather(*(_close(socket) for socket in sockets))

    async def _still_signed_in(self, request: web.Request) -> bool:
        try:
            await self._auth.session(request)
        except (NotSignedIn, Forbidden):
            return False
        return True

    def _start_broadcasting(self) -> None:
        if self._broadcaster is None or self._broadcaster.done():
            subscription = self._notifier.subscribe()
            self._broadcaster = asyncio.create_task(self._broadcast(subscription), name="console-live")

    async def _stop_broadcasting(self) -> None:
        broadcaster, self._broadcaster = self._broadcaster, None
        if broadcaster is not None:
            broadcaster.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await broadcaster

    async def _broadcast(self, subscription: Subscription) -> None:
        """Number and encode each event once; the events that arrive together go out in one write."""
        try:
            async for event in subscription:
                if event.name == "bus.overflowed":
                    self._pending.append(text_frame(RESYNC))
                else:
                    self._seq += 1
                    self._pending.append(text_frame(event_json(self._seq, event)))
                if not self._flush_scheduled:
                    # Runs once the subscription has nothing more queued, so one flush takes them all.
                    self._flush_scheduled = True
                    loop = asyncio.get_running_loop()
                    loop.call_at(max(loop.time(), self._next_flush), self._flush)
        finally:
            subscription.close()

    def _flush(self) -> None:
        self._flush_scheduled = False
        now = asyncio.get_running_loop().time()
        started = time.perf_counter()  # the loop's clock may not move during one callback
        data = b"".join(self._pending)
        self._pending.clear()
        if data:
            for socket, transport in self._sockets.items():
                if socket.closed or transport.is_closing() or transport.get_write_buffer_size() > MAX_BUFFERED:
                    continue
                transport.write(data)
        took = time.perf_counter() - started
        self._next_flush = now + max(FLUSH_SECONDS, took / FLUSH_SHARE)
