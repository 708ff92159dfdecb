"""Volunteers: signed in through the real API, each holding the console's live socket.

Every socket counts the ``message.added`` events it receives and the ``resync`` frames it is sent; a few
*observer* sockets also keep when each message arrived, by message id, and check that event sequence
numbers have no gaps. Sockets send the console's own ``ping`` as often as the page does (every 25 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

from helpline.bench.raw_ws import RawWebSocket, open_socket
from helpline.bench.server import PASSWORD

_MESSAGE = re.compile(rb'"type":"event","seq":(\d+),"event":"message\.added"[^}]*?"message_id":"([A-Za-z0-9_-]+)"')
_SEQ = re.compile(rb'"type":"(?:event|hello)","seq":(\d+)')
_RESYNC = b'"type":"resync"'
PING_SECONDS = 25.0  # live.js PING_MS


class ConsoleSocket(RawWebSocket):
    """One volunteer's ``/console/ws``."""

    def __init__(self, host: str, cookie: str, origin: str, *, observer: bool) -> None:
        super().__init__("/console/ws", host, {"Origin": origin, "Cookie": cookie})
        self.observer = observer
        self.messages = 0
        self.resyncs = 0
        self.gaps = 0
        self.arrivals: dict[str, float] = {}
        self.repeats = 0
        self._last_seq: int | None = None

    def on_text(self, data: bytes, at: float) -> None:
        self.resyncs += data.count(_RESYNC)
        if not self.observer:
            self.messages += data.count(b'"event":"message.added"')
            return
        for match in _SEQ.finditer(data):
            seq = int(match.group(1))
            if b"hello" in match.group(0) or self._last_seq is None:
                self._last_seq = seq
            elif seq > self._last_seq:
                # Frames numbered at or below the last one were sent before this socket's hello was
                # (the page drops them as seen); a jump past the next number is a gap.
                self.gaps += seq != self._last_seq + 1
                self._last_seq = seq
        for match in _MESSAGE.finditer(data):
            self.messages += 1
            message_id = match.group(2).decode("ascii")
            if message_id in self.arrivals:
                self.repeats += 1
            else:
                self.arrivals[message_id] = at


@dataclass(frozen=True)
class SignedIn:
    """A volunteer's session: the ``Cookie`` header value and the CSRF token for POSTs."""

    username: str
    cookie: str
    csrf: str
    base_url: str


async def sign_in(session: aiohttp.ClientSession, base_url: str, username: str) -> SignedIn:
    """Sign in through ``POST /api/login``."""
    async with session.post(f"{base_url}/api/login", json={"username": username, "password": PASSWORD}) as response:
        if response.status != 200:
            raise RuntimeError(f"sign-in failed with HTTP {response.status}")
        answer = await response.json()
        cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in response.cookies.items())
        return SignedIn(username, cookie, str(answer["csrf_token"]), base_url)


class Volunteers:
    """Every volunteer's console socket, and the task that keeps them pinging."""

    def __init__(self, sockets: list[ConsoleSocket], sessions: list[SignedIn]) -> None:
        self.sockets = sockets
        self.sessions = sessions
        self._pinger: asyncio.Task[None] | None = None

    @property
    def observers(self) -> list[ConsoleSocket]:
        return [s for s in self.sockets if s.observer]

    def start_pinging(self) -> None:
        self._pinger = asyncio.create_task(self._ping_forever())

    async def _ping_forever(self) -> None:
        while True:
            await asyncio.sleep(PING_SECONDS)
            for socket in self.sockets:
                socket.send_text('{"type":"ping"}')

    async def close(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
        for socket in self.sockets:
            socket.close()


async def connect_volunteers(origin: str, ports: Sequence[int], names: Sequence[str], observers: int) -> Volunteers:
    """Sign each volunteer in and open their console socket; the first ``observers`` keep arrival times.

    Volunteer ``i`` signs in and holds their socket at the server on ``ports[i % len(ports)]``, so with several
    servers the observers are spread over them too; ``origin`` is the public URL every server shares.
    """
    slots = asyncio.Semaphore(16)
    sessions: list[SignedIn | None] = [None] * len(names)
    connector = aiohttp.TCPConnector(limit=32)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as session:

        async def one(index: int) -> None:
            async with slots:
                base_url = f"http://127.0.0.1:{ports[index % len(ports)]}"
                sessions[index] = await sign_in(session, base_url, names[index])

        await asyncio.gather(*(one(i) for i in range(len(names))))
    signed_in = [s for s in sessions if s is not None]
    sockets = [
        ConsoleSocket(s.base_url.removeprefix("http://"), s.cookie, origin, observer=i < observers)
        for i, s in enumerate(signed_in)
    ]
    for start in range(0, len(sockets), 50):
        await asyncio.gather(
            *(open_socket(s, "127.0.0.1", int(s.host.rsplit(":", 1)[1])) for s in sockets[start : start + 50])
        )
    volunteers = Volunteers(sockets, signed_in)
    volunteers.start_pinging()
    return volunteers
