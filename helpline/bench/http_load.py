"""A lean HTTP/1.1 load generator: pre-built requests on keep-alive connections, one response at a time each.

A general-purpose client (aiohttp's) costs more CPU per request than the server it measures, so the load
generator would be the bottleneck. This one writes bytes built before the clock starts and reads just
enough of each response to know its status and where it ends.

Two ways to drive it: ``closed_loop`` keeps every connection busy (throughput: as fast as the server
answers), ``open_loop`` starts requests on a fixed schedule whatever the answers do (latency at an offered
load; a request's time is counted from when it was due, so a slow server cannot hide its queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

_HEADER_END = b"\r\n\r\n"


class ResponseError(Exception):
    """The server closed the connection or answered with something that is not HTTP/1.1."""


@dataclass
class Outcome:
    """What happened to one request."""

    index: int
    status: int
    due: float
    done: float


class _Connection(asyncio.Protocol):
    """One keep-alive connection: send a request, wait for its whole response, repeat."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[int] | None = None
        self._lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP connection's transport (uvloop's does not subclass asyncio's classes, so no isinstance).
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ResponseError("connection closed"))

    async def request(self, raw: bytes) -> int:
        """Send one request and return the response's status code."""
        if self._lost or self._transport is None:
            raise ResponseError("connection closed")
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(raw)
        return await self._waiter

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _complete(self) -> None:
        end = self._buffer.find(_HEADER_END)
        if end < 0 or self._waiter is None:
            return
        head = bytes(self._buffer[:end]).decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            self._fail("not an HTTP/1.1 response")
            return
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
            elif name.strip().lower() == "transfer-encoding":
                self._fail("chunked responses are not expected here")
                return
        total = end + len(_HEADER_END) + length
        if len(self._buffer) < total:
            return
        del self._buffer[:total]
        if not self._waiter.done():
            self._waiter.set_result(int(parts[1]))

    def _fail(self, reason: str) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ResponseError(reason))


class Pool:
    """A fixed number of keep-alive connections to one server, opened before any request is timed.

    A request waits for a free connection rather than opening one more: a burst of new connections would
    overflow the server's listen backlog, and a dropped SYN costs seconds of retransmission, which would be
    the kernel's figure, not the server's.
    """

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host = host
        self.port = port
        self.size = size
        self._idle: asyncio.Queue[_Connection] = asyncio.Queue()
        self._all: list[_Connection] = []

    async def open(self) -> Pool:
        for start in range(0, self.size, 32):
            opened = await asyncio.gather(*(self._connect() for _ in range(min(32, self.size - start))))
            for connection in opened:
                self._idle.put_nowait(connection)
        return self

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(_Connection, self.host, self.port)
        self._all.append(protocol)
        return protocol

    async def send(self, raw: bytes, attempts: int = 3) -> int:
        """Send on the next free connection; a broken connection is replaced and the request sent again."""
        connection = await self._idle.get()
        try:
            for attempt in range(attempts):
                try:
                    return await connection.request(raw)
                except ResponseError:
                    connection.close()
                    connection = await self._connect()
                    if attempt == attempts - 1:
                        raise
            raise ResponseError("unreachable")
        finally:
            self._idle.put_nowait(connection)

    def close(self) -> None:
        for connection in self._all:
            connection.close()
        self._all.clear()


class Spread:
    """Pools to one or more servers: request ``i`` goes to server ``i`` mod their number (round robin, as a
    load balancer would send them)."""

    def __init__(self, pools: Sequence[Pool]) -> None:
        self.pools = list(pools)

    @classmethod
    async def open(cls, ports: Sequence[int], connections: int) -> Spread:
        """``connections`` in all, shared out over the servers on ``ports`` (each at least one)."""
        count = len(ports)
        sizes = [max(1, connections // count + (n < connections % count)) for n in range(count)]
        return cls([await Pool("127.0.0.1", port, size).open() for port, size in zip(ports, sizes, strict=True)])

    @property
    def size(self) -> int:
        return sum(pool.size for pool in self.pools)

    async def send(self, index: int, raw: bytes) -> int:
        return await self.pools[index % len(self.pools)].send(raw)

    def close(self) -> None:
        for pool in self.pools:
            pool.close()


async def closed_loop(spread: Spread, requests: Sequence[bytes]) -> tuple[list[Outcome], float]:
    """Send every request, one per connection at a time, each as soon as a connection is free; also the seconds."""
    outcomes: list[Outcome] = []
    cursor = iter(range(len(requests)))

    async def worker() -> None:
        for index in cursor:
            started = time.perf_counter()
            try:
                status = await spread.send(index, requests[index])
            except (ResponseError, OSError):
                status = 0
            outcomes.append(Outcome(index, status, started, time.perf_counter()))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(spread.size)))
    return outcomes, time.perf_counter() - started


async def open_loop(spread: Spread, requests: Sequence[bytes], rate: float) -> tuple[list[Outcome], float]:
    """Start request i at ``i / rate`` seconds, whatever happened to the earlier ones; also the seconds taken."""
    outcomes: list[Outcome] = []
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()

    async def one(index: int, due: float) -> None:
        try:
            status = await spread.send(index, requests[index])
        except (ResponseError, OSError):
            status = 0
        outcomes.append(Outcome(index, status, due, time.perf_counter()))

    started = time.perf_counter()
    for index in range(len(requests)):
        due = started + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = loop.create_task(one(index, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*tasks)
    return outcomes, time.perf_counter() - started


def post_form(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """The bytes of one form POST, ready to write."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/x-www-form-urlencoded",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
