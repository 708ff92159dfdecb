"""Idle web chat sockets: each opens ``/chat/ws`` from the chat page's origin, says hello, and waits.

A hello without a token starts a chat (the server answers ``session`` and ``welcome``); until the contact
writes, the chat has no conversation, which is how most people sit on the page on a busy night.
"""

from __future__ import annotations

import asyncio
import resource

from helpline.bench.raw_ws import RawWebSocket, open_socket

HELLO = '{"type":"hello","token":null,"after":0}'


class ChatSocket(RawWebSocket):
    """One contact's chat socket, welcomed once."""

    def __init__(self, host: str, origin: str) -> None:
        super().__init__("/chat/ws", host, {"Origin": origin})
        self.welcomed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_text(self, data: bytes, at: float) -> None:
        if b'"type":"welcome"' in data and not self.welcomed.done():
            self.welcomed.set_result(None)


def raise_open_files(wanted: int) -> int:
    """Raise this process's open-file limit towards ``wanted`` (children inherit it); the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


async def open_chats(base_url: str, port: int, count: int, *, batch: int = 200, wait: float = 30.0) -> list[ChatSocket]:
    """Open ``count`` chat sockets, ``batch`` at a time, each welcomed before it counts."""
    host = f"127.0.0.1:{port}"
    sockets: list[ChatSocket] = []

    async def one() -> ChatSocket:
        chat = await open_socket(ChatSocket(host, base_url), "127.0.0.1", port, wait)
        chat.send_text(HELLO)
        await asyncio.wait_for(chat.welcomed, wait)
        return chat

    for start in range(0, count, batch):
        sockets.extend(await asyncio.gather(*(one() for _ in range(min(batch, count - start)))))
    return sockets
