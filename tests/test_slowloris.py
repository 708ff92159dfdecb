"""Slowloris: connections that send their headers or body too slowly are closed, and the server stays open.

These use real slow sockets on 127.0.0.1 against the server as `helpline serve` runs it, with deadlines of
half a second so each test takes a second or two.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from helpline.settings import Settings
from tests.conftest import Served

DEADLINE = 0.5
BOUND = 20.0  # far above the deadline (a loaded machine is slow), far below aiohttp's own 75 s or more


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace("server", header_timeout_seconds=DEADLINE, body_timeout_seconds=DEADLINE)


async def closed_after(reader: asyncio.StreamReader) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    started = time.monotonic()
    received = b""
    async with asyncio.timeout(BOUND):
        while chunk := await reader.read(4096):
            received += chunk
    return received, time.monotonic() - started


async def dribble(writer: asyncio.StreamWriter, stop: asyncio.Event) -> None:
    """A header line every tenth of a second, never the blank line that ends the headers."""
    n = 0
    while not stop.is_set() and not writer.is_closing():
        writer.write(f"X-Slow-{n}: a\r\n".encode())
        n += 1
        try:
            await writer.drain()
        except ConnectionError:
            return
        await asyncio.sleep(0.1)


async def test_headers_dribbled_a_line_at_a_time_are_cut_off(served: Served) -> None:
    """A connection that keeps sending header lines but never finishes is closed at the header deadline."""
    reader, writer = await served.connect()
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: helpline\r\n")
    stop = asyncio.Event()
    sender = asyncio.create_task(dribble(writer, stop))
    try:
        received, took = await closed_after(reader)
    finally:
        stop.set()
        await sender
        writer.close()
    assert received == b""
    assert DEADLINE * 0.8 <= took < BOUND


async def test_a_connection_that_sends_nothing_is_closed(served: Served) -> None:
    """A connection opened and left silent is closed at the header deadline."""
    reader, writer = await served.connect()
    try:
        received, took = await closed_after(reader)
    finally:
        writer.close()
    assert received == b"" and took < BOUND


async def test_a_body_that_never_finishes_gets_408_and_the_connection_is_closed(served: Served) -> None:
    """Headers in time but a body that stalls: 408 and the connection closed at the body deadline."""
    reader, writer = await served.connect()
    writer.write(
        b"POST /api/login HTTP/1.1\r\nHost: helpline\r\nContent-Type: application/json\r\n"
        b'Content-Length: 200\r\n\r\n{"username": '
    )
    await writer.drain()
    try:
        received, took = await closed_after(reader)
    finally:
        writer.close()
    assert received.startswith(b"HTTP/1.1 408 ")
    assert b"took too long" in received
    assert DEADLINE * 0.8 <= took < BOUND


async def test_a_hundred_slow_connections_do_not_keep_others_out(served: Served) -> None:
    """While a hundred slow connections are held, a normal request is answered; all of them are then closed."""
    connections = [await served.connect() for _ in range(100)]
    stop = asyncio.Event()
    for _, writer in connections:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: helpline\r\n")
    senders = [asyncio.create_task(dribble(writer, stop)) for _, writer in connections]
    try:
        url = f"http://{served.host}:{served.port}/healthz"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 200
        results = await asyncio.gather(*(closed_after(reader) for reader, _ in connections))
    finally:
        stop.set()
        await asyncio.gather(*senders)
        for _, writer in connections:
            writer.close()
    assert all(received == b"" and took < BOUND for received, took in results)


async def test_a_kept_alive_connection_outlives_the_header_deadline(served: Served) -> None:
    """A proxy's kept-alive connection, idle past the header deadline after a full request, still serves the next."""
    reader, writer = await served.connect()
    request = b"GET /healthz HTTP/1.1\r\nHost: helpline\r\n\r\n"
    try:
        for _ in range(2):
            writer.write(request)
            await writer.drain()
            async with asyncio.timeout(BOUND):
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(next(line for line in head.split(b"\r\n") if line.startswith(b"Content-Length:"))[15:])
                await reader.readexactly(length)
            assert head.startswith(b"HTTP/1.1 200 ")
            await asyncio.sleep(DEADLINE * 2)  # real idle time on a real socket: the deadline must not apply
    finally:
        writer.close()
