"""Version disclosure: no answer names the server's language, library or version."""

from __future__ import annotations

import aiohttp

from tests.conftest import Served


def assert_quiet(server: str | None) -> None:
    assert server == "helpline", server


async def test_no_answer_names_python_or_aiohttp(served: Served) -> None:
    """Pages, the API, errors, static files and the chat all say only `Server: helpline`."""
    paths = ["/healthz", "/login", "/api/session", "/no/such/page", "/static/console.css", "/chat", "/widget.js"]
    async with aiohttp.ClientSession() as session:
        for path in paths:
            async with session.get(f"http://{served.host}:{served.port}{path}") as response:
                assert_quiet(response.headers.get("Server"))
                assert "aiohttp" not in str(response.headers) and "Python" not in str(response.headers)


async def test_a_request_the_server_cannot_parse_gets_a_quiet_400(served: Served) -> None:
    """aiohttp's own answer to a malformed request also names no version."""
    reader, writer = await served.connect()
    writer.write(b"GET / HTTP/1.1\r\nHost: helpline\r\nBad\x01Header: y\r\n\r\n")
    await writer.drain()
    answer = await reader.read()
    writer.close()
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    assert head.startswith(("HTTP/1.0 400 ", "HTTP/1.1 400 "))
    assert "\r\nServer: helpline" in head
    assert "aiohttp" not in head and "Python" not in head
