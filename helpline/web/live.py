"""``/console/ws``: live updates for the console.

The socket is authenticated by the session cookie, and only the console's own pages may open it (the
``Origin`` must be the console's: a page elsewhere cannot ride a volunteer's cookie). After a
``hello`` frame carrying the current sequence number, every committed change is sent as an event frame
with the next one. Events carry ids only; the page fetches what it shows from the API. A socket that fell
behind sees a gap in the numbers (or is sent ``resync``) and reloads: the database is the source of truth.

**Resuming.** Each event frame carries the event's ``id``: where it stands in the record of events, the same
at every instance sharing PostgreSQL (``helpline/bus.py``); ``hello`` carries the id of the last event before
it. A page that lost its socket opens a new one — at this instance or another — with ``?last=<id>``, the last
event it saw. If what came after is known, ``hello`` says ``"resumed": true`` and the socket is sent exactly
the events after that id, then goes on live: the page reloads nothing. They come from the frames this
instance sent recently (``live_recent.py``), or, further back, from the ``events`` table (``EventHistory``,
PostgreSQL only: on SQLite a restart forgets them), sent as ``"replay": true`` frames before the numbered
ones. A page whose id is no longer known (trimmed, too old, from before a restart) gets a plain ``hello`` and
reloads, as on its first connect.

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
from helpline.core.ports import EventHistory, Notifier, PresenceBook, StampedSubscription
from helpline.errors import Forbidden, NotSignedIn, StoreError
from helpline.log import get_logger
from helpline.web.auth import SessionAuth
from helpline.web.live_recent import RecentFrames, stamp_order

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
# Frames kept for consoles that resume (about a minute of a busy helpline's events); older ones come from the
# events table where there is one.
KEEP_FRAMES = 10_000
# How long a console that saw events this instance has not read yet (another instance committed them a moment
# ago) waits for them before it is told to reload.
CATCH_UP_SECONDS = 2.0


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def event_json(seq: int | None, stamp: str, event: Event) -> str:
    """One event frame's JSON: ids only, the event's own ``seq`` renamed ``message_seq``.

    ``stamp`` (the event's place in the record) is the frame's ``id``, absent for an event nothing records; a
    frame without ``seq`` is a replayed one (see the module's text).
    """
    # Events are flat (ids, numbers, flags): a shallow copy, without asdict's deep one.
    fields = {"event": event.name, **{f.name: getattr(event, f.name) for f in dataclasses.fields(event)}}
    if "seq" in fields:  # a message's own sequence number, not the frame's
        fields["message_seq"] = fields.pop("seq")
    head = '"replay":true' if seq is None else f'"seq":{seq}'
    # The id last: readers that match a frame's start ("type", "seq", "event") need not know of it.
    tail = f',"id":{json.dumps(stamp)}' if stamp else ""
    return f'{{"type":"event",{head},{json.dumps(fields, separators=(",", ":"))[1:-1]}{tail}}}'


def hello_json(seq: int, last: str, *, resumed: bool) -> str:
    """The first frame on a socket: the stream's number, and the id of the last event before it."""
    fields = {"type": "hello", "seq": seq, "last": last, **({"resumed": True} if resumed else {})}
    return json.dumps(fields, separators=(",", ":"))


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
        history: EventHistory | None = None,
        heartbeat: float = 25.0,
        keep_frames: int = KEEP_FRAMES,
    ) -> None:
        self._auth = auth
        self._history = history
        self._keep_frames = keep_frames
        self._recent = RecentFrames(keep_frames, "", 0)
        self._advanced = asyncio.Event()
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
        # Sockets that resumed where they left off, without a reload, since start.
        self.resumed = 0

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
        self.start()
        frames = await self._resume(request.query.get("last", "")[:64])
        if socket.closed or transport.is_closing():
            return socket
        # Nothing between numbering the hello and joining the fan-out can yield, so no event falls between.
        if frames is None:
            transport.write(text_frame(hello_json(self._seq, self._recent.last_stamp, resumed=False)))
        else:
            transport.write(b"".join(frames))
            self.resumed += 1
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
        log.info("console.socket_closed", user_id=session.user.id)
        return socket

    async def _resume(self, last: str) -> list[bytes] | None:
        """The frames that resume a page after the event ``last``, hello first; None if it must reload."""
        if not last:
            return None
        recent = self._recent
        seq = recent.seq_of(last)
        if seq is None and self._history is not None and stamp_order(last) is not None:
            await self._catch_up(last)
            seq = recent.seq_of(last)
            if seq is None:
                return await self._replay(self._history, last)
        if seq is None:
            return None
        later = recent.since(seq)
        if later is None:
            return None
        return [text_frame(hello_json(seq, last, resumed=True)), *later]

    async def _catch_up(self, last: str) -> None:
        """Wait a little while ``last`` is ahead of what this instance has read (another just committed it)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CATCH_UP_SECONDS
        while self._ahead(last) and loop.time() < deadline:
            self._advanced.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(deadline - loop.time()):
                    await self._advanced.wait()

    def _ahead(self, last: str) -> bool:
        mine, theirs = stamp_order(self._recent.last_stamp), stamp_order(last)
        return mine is not None and theirs is not None and theirs > mine

    async def _replay(self, history: EventHistory, last: str) -> list[bytes] | None:
        """Resume from the stored record: what followed ``last`` up to this stream's newest frame, then the rest."""
        if self._ahead(last):
            return None
        recent = self._recent
        seq, upto = recent.last_seq, recent.last_stamp
        try:
            stored = await history.between(last, upto, self._keep_frames)
        except StoreError:
            return None
        later = recent.since(seq)
        if stored is None or later is None:
            return None
        replayed = [text_frame(event_json(None, stamp, event)) for stamp, event in stored]
        return [text_frame(hello_json(seq, upto, resumed=True)), *replayed, *later]

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

    def start(self) -> None:
        """Follow the bus from now until shutdown, keeping recent frames even while no console is connected."""
        if self._broadcaster is None or self._broadcaster.done():
            subscription = self._notifier.follow()
            # Taken with no yield since subscribing: every event after this stamp comes to the subscription.
            self._recent = RecentFrames(self._keep_frames, self._notifier.position, self._seq)
            self._broadcaster = asyncio.create_task(self._broadcast(subscription), name="console-live")

    async def _stop_broadcasting(self) -> None:
        broadcaster, self._broadcaster = self._broadcaster, None
        if broadcaster is not None:
            broadcaster.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await broadcaster

    async def _broadcast(self, subscription: StampedSubscription) -> None:
        """Number and encode each event once; the events that arrive together go out in one write."""
        try:
            async for stamp, event in subscription:
                if event.name == "bus.overflowed":
                    self._recent.missed()
                    frame = text_frame(RESYNC)
                else:
                    self._seq += 1
                    frame = text_frame(event_json(self._seq, stamp, event))
                    self._recent.add(self._seq, stamp, frame)
                self._advanced.set()
                if not self._sockets:
                    continue
                self._pending.append(frame)
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
