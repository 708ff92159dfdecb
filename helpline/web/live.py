"""``/console/ws``: live updates for the console.

The socket is authenticated by the session cookie, and only the console's own pages may open it (the
``Origin`` must be the console's: a page elsewhere cannot ride a volunteer's cookie). After a
``hello`` frame, every committed change is sent as an event frame with the next sequence number. Events
carry ids only; the page fetches what it shows from the API. A subscriber that fell behind is told to
``resync``: the database is the source of truth.

Each event is encoded to JSON once and shared by every socket; only the sequence number is per socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections import OrderedDict
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from helpline.core.events import Event
from helpline.core.ports import Notifier, Subscription
from helpline.errors import Forbidden, NotSignedIn
from helpline.log import get_logger
from helpline.web.auth import SessionAuth

log = get_logger(__name__)
RESYNC = '{"type":"resync"}'
SESSION_ENDED = 4401


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class EventFrames:
    """Encodes each event once, however many sockets it goes to."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._cache: OrderedDict[int, tuple[Event, str]] = OrderedDict()

    def body(self, event: Event) -> str:
        cached = self._cache.get(id(event))
        if cached is not None and cached[0] is event:
            return cached[1]
        fields = {"event": event.name, **dataclasses.asdict(event)}
        if "seq" in fields:  # a message's own sequence number, not the frame's
            fields["message_seq"] = fields.pop("seq")
        encoded = json.dumps(fields, separators=(",", ":"))[1:-1]
        # Keep the event itself alive so its id() cannot be reused while cached.
        self._cache[id(event)] = (event, encoded)
        while len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return encoded

    def frame(self, seq: int, event: Event) -> str:
        return f'{{"type":"event","seq":{seq},{self.body(event)}}}'


class ConsoleLive:
    def __init__(self, auth: SessionAuth, notifier: Notifier, public_url: str, *, heartbeat: float = 25.0) -> None:
        self._auth = auth
        self._notifier = notifier
        self._origin = origin_of(public_url)
        self._heartbeat = heartbeat
        self._frames = EventFrames()
        self.connected = 0

    def _origin_allowed(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin", "")
        return origin in (self._origin, f"{request.scheme}://{request.host}")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not self._origin_allowed(request):
            raise Forbidden("Live updates are only for the console's own pages.")
        session = await self._auth.session(request)
        socket = web.WebSocketResponse(compress=False, heartbeat=self._heartbeat, max_msg_size=4096)
        await socket.prepare(request)
        subscription = self._notifier.subscribe()
        self.connected += 1
        sender = asyncio.create_task(self._forward(socket, subscription), name="console-live")
        try:
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    continue
                if not await self._still_signed_in(request):
                    await socket.close(code=SESSION_ENDED, message=b"session ended")
                    break
                if message.data == '{"type":"ping"}' or message.data.replace(" ", "") == '{"type":"ping"}':
                    await socket.send_str('{"type":"pong"}')
        finally:
            self.connected -= 1
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            subscription.close()
        log.info("console.socket_closed", user_id=session.user.id)
        return socket

    async def _still_signed_in(self, request: web.Request) -> bool:
        try:
            await self._auth.session(request)
        except (NotSignedIn, Forbidden):
            return False
        return True

    async def _forward(self, socket: web.WebSocketResponse, subscription: Subscription) -> None:
        seq = 0
        await socket.send_str(f'{{"type":"hello","seq":{seq}}}')
        async for event in subscription:
            if socket.closed:
                return
            if event.name == "bus.overflowed":
                await socket.send_str(RESYNC)
                continue
            seq += 1
            await socket.send_str(self._frames.frame(seq, event))
