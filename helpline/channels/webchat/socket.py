"""``/chat/ws``: one contact's chat socket.

Only the helpline's own chat page may open it (the ``Origin`` must be ours). The token travels in the
first frame, never in the URL, and the server sends nothing until it has read that ``hello``. Frames from
the browser are handled one at a time; everything the server sends goes through one lock, so a message
pushed by a volunteer's reply and one echoed after the contact's own never interleave, and each socket
sends every sequence number once, in order.

A frame the server cannot use gets an ``error`` frame and the socket stays open; after
``MAX_BAD_FRAMES`` of them it closes (1008). A frame bigger than the socket's size limit is closed by
aiohttp with 1009. Whatever one socket does, the others are unaffected.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

from aiohttp import WSMsgType, web

from helpline.channels.webchat import protocol
from helpline.channels.webchat.limits import NetworkTags, client_address
from helpline.channels.webchat.registry import Chat
from helpline.channels.webchat.service import ChatService, ChatStatus, Posted, Refusal, status_text
from helpline.clock import Clock
from helpline.errors import Forbidden
from helpline.log import get_logger

log = get_logger(__name__)
HELLO_TIMEOUT_SECONDS = 15.0


class ChatConnection:
    """One open socket: reads the browser's frames and sends the chat's."""

    def __init__(self, socket: web.WebSocketResponse, service: ChatService, clock: Clock, network: bytes) -> None:
        self._socket = socket
        self._service = service
        self._clock = clock
        self._network = network
        self._lock = asyncio.Lock()
        self._chat: Chat | None = None
        self._pushed = 0
        self._bad_frames = 0
        self.last_sent: datetime = clock.now()

    async def run(self) -> None:
        chat = await self._greet()
        if chat is None:
            return
        self._chat = chat
        chat.listeners.add(self)
        try:
            await self._read(chat)
        finally:
            self._service.registry.release(chat, self)

    async def _greet(self) -> Chat | None:
        """Read the hello; answer with the chat's state and what the browser has not seen yet."""
        hello = await self._read_hello()
        if hello is None:
            return None
        chat = await self._open_chat(hello)
        if chat is None:
            return None
        self._service.touch(chat)
        self._pushed = hello.after
        status = await self._service.status(chat)
        await self._send(self._welcome(status.state, position=status.position, wait=status.wait))
        await self.catch_up_for(chat)
        return chat

    async def _read_hello(self) -> protocol.Hello | None:
        try:
            message = await self._socket.receive(timeout=HELLO_TIMEOUT_SECONDS)
        except TimeoutError:
            await self._close(protocol.CLOSE_BAD_HELLO, "No hello: reload the page to chat")
            return None
        hello: protocol.Frame | None = None
        if message.type == WSMsgType.TEXT:
            try:
                hello = protocol.parse(message.data)
            except protocol.FrameError as exc:
                await self._send(protocol.encode("error", code=exc.code, message=exc.message))
        if not isinstance(hello, protocol.Hello):
            await self._close(protocol.CLOSE_BAD_HELLO, "The first frame must be a hello")
            return None
        return hello

    async def _open_chat(self, hello: protocol.Hello) -> Chat | None:
        """The chat the hello names, or a new one; None (and the socket closed, with a reason) if neither."""
        if hello.token is None:
            if not self._service.is_open():
                await self._send(self._welcome("closed"))
                await self._close(protocol.CLOSE_NORMAL, "The chat is closed just now")
                return None
            token, chat = self._service.start()
            await self._send(protocol.encode("session", token=token.text))
            return chat
        resumed = await self._service.resume(hello.token)
        if isinstance(resumed, Refusal):
            await self._send(resumed.frame())
            forged = resumed.code == "bad_token"
            code = protocol.CLOSE_FORGED if forged else protocol.CLOSE_ENDED
            await self._close(code, "Chat not found" if forged else "This chat has ended")
            return None
        return resumed[1]

    def _welcome(self, state: str, *, position: int | None = None, wait: str | None = None) -> str:
        rules = self._service.rules
        return protocol.encode(
            "welcome",
            state=state,
            open=state != "closed",
            position=position,
            wait=wait,
            text=status_text(ChatStatus(state, position, wait)),
            max_message_chars=rules.max_message_chars,
            out_of_hours={"message": self._service.closed_text(), "signposting": list(rules.signposting)},
        )

    async def _read(self, chat: Chat) -> None:
        async for message in self._socket:
            if message.type == WSMsgType.TEXT:
                try:
                    frame = protocol.parse(message.data)
                except protocol.FrameError as exc:
                    await self._bad_frame(exc.code, exc.message)
                    continue
                await self._handle(chat, frame)
            elif message.type == WSMsgType.BINARY:
                await self._bad_frame("bad_frame", "The chat reads text frames only.")
            if self._socket.closed:
                return

    async def _bad_frame(self, code: str, message: str) -> None:
        self._bad_frames += 1
        log.info("webchat.bad_frame", code=code)
        if self._bad_frames > protocol.MAX_BAD_FRAMES:
            await self._close(protocol.CLOSE_POLICY, "Too many frames the chat could not read")
            return
        await self._send(protocol.encode("error", code=code, message=message))

    async def _handle(self, chat: Chat, frame: protocol.Frame) -> None:
        service = self._service
        if isinstance(frame, protocol.Send):
            starting = chat.conversation_id is None
            result = await service.post(chat, frame.client_id, frame.body, self._network)
            if isinstance(result, Refusal):
                await self._send(result.frame(ref=frame.client_id))
                return
            await self._acknowledge(chat, frame.client_id, result)
            if starting and chat.state == "waiting":
                # The first message put the chat in the queue: say where, without waiting for the bus.
                status = await service.status(chat)
                text = status_text(status)
                await self._send(protocol.encode("queue", position=status.position, wait=status.wait, text=text))
        elif isinstance(frame, protocol.Typing):
            service.typing(chat, frame.active)
        elif isinstance(frame, protocol.StillHere):
            service.touch(chat)
        elif isinstance(frame, protocol.End):
            await service.end(chat, frame.reason)
        elif isinstance(frame, protocol.Ping):
            await self._send(protocol.encode("pong"))
        else:
            await self._bad_frame("bad_frame", "Say hello only once.")

    async def _acknowledge(self, chat: Chat, client_id: str, posted: Posted) -> None:
        # Every socket of the chat shows the new message; this one before its acknowledgement, so the
        # browser can swap its pending copy for the stored one.
        for listener in list(chat.listeners):
            if listener is not self:
                await listener.catch_up()
        await self.catch_up()
        if posted.duplicate:
            await self._send(protocol.encode("ack", ref=client_id, duplicate=True))
        elif posted.message_id is None:
            await self._send(protocol.encode("ack", ref=client_id, dropped=True))
        else:
            await self._send(protocol.encode("ack", ref=client_id, id=posted.message_id))

    async def catch_up(self) -> None:
        if self._chat is not None:
            await self.catch_up_for(self._chat)

    async def catch_up_for(self, chat: Chat) -> None:
        async with self._lock:
            while not self._socket.closed:
                messages = await self._service.transcript(chat, self._pushed)
                if not messages:
                    return
                for message in messages:
                    await self._send_unlocked(message.frame())
                    self._pushed = message.seq

    async def send(self, frame: str) -> None:
        await self._send(frame)

    async def finish(self, frame: str, code: int, reason: str) -> None:
        await self._send(frame)
        await self._close(code, reason)

    async def _send(self, frame: str) -> None:
        async with self._lock:
            await self._send_unlocked(frame)

    async def _send_unlocked(self, frame: str) -> None:
        if self._socket.closed:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self._socket.send_str(frame)
            self.last_sent = self._clock.now()

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self._socket.close(code=code, message=reason.encode()[:120])


class ChatSockets:
    """The ``/chat/ws`` handler."""

    def __init__(
        self,
        service: ChatService,
        networks: NetworkTags,
        clock: Clock,
        *,
        origin: str,
        heartbeat_seconds: float,
        trusted_proxy_hops: int,
    ) -> None:
        self._service = service
        self._networks = networks
        self._clock = clock
        self._origin = origin
        self._heartbeat = heartbeat_seconds
        self._hops = trusted_proxy_hops
        # Room for the longest message even if every character were escaped as \\uXXXX, plus the frame.
        self._max_frame = max(16 * 1024, service.rules.max_message_chars * 6 + 1024)
        self._open: set[web.WebSocketResponse] = set()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Origin", "") != self._origin:
            raise Forbidden("The chat can only be opened from the helpline's own chat page.")
        network = self._networks.tag(client_address(request, self._hops))
        socket = web.WebSocketResponse(heartbeat=self._heartbeat, compress=False, max_msg_size=self._max_frame)
        await socket.prepare(request)
        if not self._service.limits.connections.open(network):
            refusal = Refusal("too_many_connections", "There are too many chats open from your network just now.")
            await socket.send_str(refusal.frame())
            await socket.close(code=protocol.CLOSE_BUSY, message=b"Too many chats from your network")
            return socket
        self._open.add(socket)
        try:
            await ChatConnection(socket, self._service, self._clock, network).run()
        finally:
            self._open.discard(socket)
            self._service.limits.connections.close(network)
        return socket

    async def close_all(self, app: web.Application) -> None:
        """At shutdown: tell every browser to come back later (they reconnect and resume)."""
        for socket in list(self._open):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await socket.close(code=protocol.CLOSE_GOING_AWAY, message=b"The server is restarting")
