"""Lean WebSocket clients for the benchmark: thousands of sockets in one process, little work per byte.

The server's frames are read as a byte stream: the JSON of each text frame is found with a regular
expression instead of a frame parser, which is enough for frames that are flat JSON objects (the console's
and the chat's are). The server's heartbeat ping (an empty ping frame, ``89 00``) is answered with a pong,
so a socket left idle stays open.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import Mapping
from typing import TypeVar, cast

_HEADER_END = b"\r\n\r\n"
_PING = b"\x89\x00"
_FRAME_START = b'{"type":'


class HandshakeError(Exception):
    """The server did not switch protocols."""


def masked_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One client frame (clients must mask), FIN set; payloads here are small."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    length = len(payload)
    if length < 126:
        header = bytes([0x80 | opcode, 0x80 | length])
    else:
        header = bytes([0x80 | opcode, 0x80 | 126]) + length.to_bytes(2, "big")
    return header + mask + masked


S = TypeVar("S", bound="RawWebSocket")


class RawWebSocket(asyncio.Protocol):
    """A client socket; ``on_text`` gets each batch of complete JSON frames that arrived together."""

    def __init__(self, path: str, host: str, headers: Mapping[str, str]) -> None:
        self._path = path
        self.host = host
        self._headers = headers
        self._transport: asyncio.Transport | None = None
        self._upgraded = False
        self._buffer = b""
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP connection's transport (uvloop's does not subclass asyncio's classes, so no isinstance).
        self._transport = cast(asyncio.Transport, transport)
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        lines = [
            f"GET {self._path} HTTP/1.1",
            f"Host: {self.host}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{name}: {value}" for name, value in self._headers.items()),
        ]
        self._transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        if not self._upgraded:
            self._buffer += data
            end = self._buffer.find(_HEADER_END)
            if end < 0:
                return
            status = self._buffer[:end].split(b"\r\n", 1)[0]
            if b" 101 " not in status + b" ":
                if not self.opened.done():
                    self.opened.set_exception(HandshakeError(status.decode("latin-1")))
                self.close()
                return
            self._upgraded = True
            data, self._buffer = self._buffer[end + len(_HEADER_END) :], b""
            if not self.opened.done():
                self.opened.set_result(None)
        if _PING in data:
            self.send_frame(b"", opcode=0xA)
        data = self._buffer + data
        if not data.endswith(b"}"):
            # The last frame is not complete yet: keep it for the next read.
            cut = data.rfind(_FRAME_START)
            if cut < 0:
                self._buffer = data
                return
            data, self._buffer = data[:cut], data[cut:]
        else:
            self._buffer = b""
        if data:
            self.on_text(data, now)

    def on_text(self, data: bytes, at: float) -> None:
        """Complete frames (their JSON, with frame headers between) that arrived at ``at``."""

    def send_text(self, text: str) -> None:
        self.send_frame(text.encode("utf-8"))

    def send_frame(self, payload: bytes, opcode: int = 0x1) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(masked_frame(payload, opcode))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.opened.done():
            self.opened.set_exception(HandshakeError("connection closed"))

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


async def open_socket(protocol: S, host: str, port: int, wait: float = 30.0) -> S:
    """Connect ``protocol`` and wait for the upgrade."""
    loop = asyncio.get_running_loop()
    await loop.create_connection(lambda: protocol, host, port)
    await asyncio.wait_for(protocol.opened, wait)
    return protocol
