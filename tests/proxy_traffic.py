"""What goes through a deployed proxy in the deployment tests: a contact, Twilio and a volunteer, and rude clients.

Every request carries the canaries (an address in X-Forwarded-For, a user agent, a query string); the tests then
search everything the proxy and the server wrote for them.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from helpline.testing.twilio_api import FakeTwilio
from tests.conftest import HELPLINE_NUMBER, PASSWORD
from tests.test_canary import number_forms, text_forms

# What a contact's connection carries that must never be written down anywhere.
CANARY_FORWARDED = "198.51.100.77"
CANARY_AGENT = "CanaryBrowser/7.7 (canary-agent-5f1e)"
CANARY_QUERY = "canary-query-9c2d"
CANARY_NUMBER = "+447700900456"
CANARY_TEXT = "CANARY-TEXT my brother Sam has not come home"
CANARY_CHAT = "CANARY-CHAT I am scared to go back"
CANARY_FORM = "CANARY-FORM nobody knows I am writing"
VOLUNTEER = "vera"


async def read_until_closed(reader: asyncio.StreamReader, seconds: float) -> tuple[bytes, float]:
    """Everything the other side sends until it closes, and how long that took (fails after ``seconds``)."""
    started = time.monotonic()
    received = b""
    async with asyncio.timeout(seconds):
        while chunk := await reader.read(4096):
            received += chunk
    return received, time.monotonic() - started


# Requests that stop half way, for the proxies' header and body timeouts.
HALF_HEADERS = f"GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {CANARY_AGENT}\r\n".encode()
HALF_BODY = (
    b"POST /webhooks/twilio/sms HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\n\r\nBody=slow"
)


async def stalled(port: int, tls: ssl.SSLContext, request: bytes) -> tuple[bytes, float]:
    """Send part of a request to the proxy and stop: what it answers until it closes, and after how long."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls)
    writer.write(request)
    await writer.drain()
    received, seconds = await read_until_closed(reader, 8.0)
    writer.close()
    return received, seconds


class Browser:
    """A browser (or Twilio) reaching the helpline through the proxy, carrying the canary address and agent."""

    def __init__(self, public_url: str, tls: ssl.SSLContext) -> None:
        self.public_url = public_url
        self.tls = tls
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=tls),
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # the site's address is 127.0.0.1
            headers={"User-Agent": CANARY_AGENT, "X-Forwarded-For": CANARY_FORWARDED, "Origin": public_url},
            timeout=aiohttp.ClientTimeout(total=10),
        )
        self.csrf = ""

    async def close(self) -> None:
        await self.session.close()

    async def text(self, twilio: FakeTwilio, sender: str, body: str, *, signed_for: str = "") -> int:
        """POST an inbound SMS webhook signed for ``signed_for`` (the public URL by default); its status."""
        params = twilio.inbound_sms_params(sender, HELPLINE_NUMBER, body)
        path = "/webhooks/twilio/sms"
        signature = twilio.sign((signed_for or self.public_url) + path, params)
        async with self.session.post(
            self.public_url + path, data=params, headers={"X-Twilio-Signature": signature}
        ) as response:
            return response.status

    async def login(self, username: str) -> None:
        async with self.session.post(
            f"{self.public_url}/api/login", json={"username": username, "password": PASSWORD}
        ) as response:
            assert response.status == 200, await response.text()
            self.csrf = (await response.json())["csrf_token"]

    async def get_json(self, path: str) -> Any:
        async with self.session.get(f"{self.public_url}{path}?{CANARY_QUERY}=1") as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def post_json(self, path: str, payload: dict[str, Any]) -> Any:
        async with self.session.post(
            f"{self.public_url}{path}?{CANARY_QUERY}=1", json=payload, headers={"X-CSRF-Token": self.csrf}
        ) as response:
            assert response.status in (200, 201), await response.text()
            return await response.json()

    async def form(self, path: str, fields: dict[str, str]) -> str:
        async with self.session.post(
            f"{self.public_url}{path}?{CANARY_QUERY}=1", data=fields, headers={"Sec-Fetch-Site": "same-origin"}
        ) as response:
            assert response.status == 200, await response.text()
            return await response.text()

    async def socket(self, path: str) -> aiohttp.ClientWebSocketResponse:
        return await self.session.ws_connect(
            f"{self.public_url}{path}?{CANARY_QUERY}=1", timeout=aiohttp.ClientWSTimeout(ws_close=5)
        )


async def next_frame(ws: aiohttp.ClientWebSocketResponse, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The next frame ``wanted`` accepts, within 10 s."""
    async with asyncio.timeout(10):
        while True:
            message = await ws.receive()
            assert message.type == aiohttp.WSMsgType.TEXT, f"socket closed: {message.type} {message.extra}"
            frame: dict[str, Any] = json.loads(message.data)
            if wanted(frame):
                return frame


def hidden(html: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', html)
    assert match, f"no hidden {name} field"
    return match.group(1)


async def eventually(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 10.0) -> None:
    """Wait (polling) for something the running server does by itself, such as sending its outbox."""
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def whole_path(public_url: str, tls: ssl.SSLContext, twilio: FakeTwilio) -> None:
    """Everything a contact, Twilio and a volunteer do, through the proxy, with the canaries on every request."""
    volunteer, contact = Browser(public_url, tls), Browser(public_url, tls)
    try:
        await volunteer.login(VOLUNTEER)
        console = await volunteer.socket("/console/ws")  # a WebSocket upgrade through the proxy
        assert (await next_frame(console, lambda frame: True))["type"] == "hello"

        assert await contact.text(twilio, CANARY_NUMBER, CANARY_TEXT) == 200
        await next_frame(console, lambda frame: frame.get("type") != "hello")  # the queue changed, live
        [waiting] = (await volunteer.get_json("/api/queue"))["conversations"]
        await volunteer.post_json(f"/api/conversations/{waiting['id']}/claim", {})
        await volunteer.post_json(f"/api/conversations/{waiting['id']}/messages", {"body": "We are here for you."})

        def replies() -> list[str]:
            return [sid for sid, m in twilio.messages.items() if m["direction"] == "outbound-api"]

        async def sent() -> bool:
            return len(replies()) >= 2  # the greeting and the reply

        await eventually(sent, "the server did not send the greeting and the reply to Twilio")
        for sid in replies():  # Twilio's signed status callbacks, through the proxy to the public URL
            assert await twilio.send_status_callback(contact.session, sid, "delivered") == 200

        chat = await contact.socket("/chat/ws")  # the web chat's socket
        await chat.send_json({"type": "hello", "token": None, "after": 0})
        await next_frame(chat, lambda frame: frame["type"] == "welcome")
        await chat.send_json({"type": "message", "id": "canary-chat-1", "body": CANARY_CHAT})
        ack = await next_frame(chat, lambda frame: frame["type"] in ("ack", "error"))
        assert ack["type"] == "ack", ack
        await chat.close()

        page = await (await contact.session.get(f"{public_url}/chat?{CANARY_QUERY}=1")).text()
        fields = {"token": "", "message_id": hidden(page, "message_id"), "body": CANARY_FORM}
        page = await contact.form("/chat/send", fields)  # the chat without JavaScript
        token = hidden(page, "token")
        assert CANARY_FORM in page
        await contact.form("/chat/refresh", {"token": token})
        await contact.form("/chat/end", {"token": token})
        await console.close()
    finally:
        await volunteer.close()
        await contact.close()


def canaries() -> list[str]:
    """Every canary in every form it could be written in (as in tests/test_canary.py)."""
    found = [CANARY_FORWARDED, CANARY_AGENT, "canary-agent", CANARY_QUERY, "CanaryBrowser"]
    found += number_forms(CANARY_NUMBER)
    for text in (CANARY_TEXT, CANARY_CHAT, CANARY_FORM):
        found += text_forms(text)
    return found


def written_by(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def hits(files: dict[str, bytes], needles: list[str]) -> list[tuple[str, str]]:
    """(file, needle) for every needle found in a file."""
    return [(name, needle) for name, data in files.items() for needle in needles if needle.encode() in data]


async def rude_clients(port: int, tls: ssl.SSLContext) -> None:
    """What a proxy logs as errors about a connection: plain HTTP to its TLS port, garbage, a dropped handshake."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /chat?{CANARY_QUERY}=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: {CANARY_AGENT}\r\n\r\n".encode())
    await read_until_closed(reader, 10.0)
    writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"\x16\x03\x01\x00\x05garbage-not-a-handshake")
    await read_until_closed(reader, 10.0)
    writer.close()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"\x16\x03\x01")  # half a TLS record, then gone
    _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls)
    writer.transport.abort()


def client_ports(text: str, *known: int) -> set[str]:
    """Ports of 127.0.0.1 written in ``text`` other than ``known`` ones: a client's own, which names it."""
    return set(re.findall(r"127\.0\.0\.1:(\d+)", text)) - {str(port) for port in known}
