"""Exception text in logs: an unhandled error is logged with its type and frames, never its message.

An exception's message can quote what a request sent — aiohttp's parser errors hold the bytes it could not
read — so the words a contact or an attacker sent must never reach the log through one.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from helpline.web.middleware import request_context
from tests.conftest import CapturedLog, Served

CANARY = "canary-7f3a-call-me-on-the-landline"


def exception_lines(captured: CapturedLog) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in captured.lines]
    return [line for line in lines if "exception" in line]


async def test_a_request_aiohttp_cannot_parse_leaves_no_request_bytes_in_the_log(
    served: Served, captured_log: CapturedLog
) -> None:
    """A malformed header carrying text is answered 400 and logged as an error type and frames only."""
    reader, writer = await served.connect()
    writer.write(f"POST /chat/send HTTP/1.1\r\nHost: helpline\r\nX-Note: {CANARY}\x01\r\n\r\n".encode())
    await writer.drain()
    answer = await reader.read()
    writer.close()
    assert b" 400 " in answer.split(b"\r\n", 1)[0]
    assert CANARY not in captured_log.text
    logged = exception_lines(captured_log)
    assert logged, "the parser error was not logged at all"
    for line in logged:
        for stack in line["exception"]:
            assert stack["exc_type"] and stack["frames"]
            assert "exc_value" not in stack and "exc_notes" not in stack


async def test_an_unhandled_error_in_a_handler_is_logged_without_its_message(captured_log: CapturedLog) -> None:
    """A handler's unexpected exception becomes a 500 with a request id; the log has its type, not its text."""

    async def broken(request: web.Request) -> web.Response:
        raise ValueError(f"could not read {CANARY}")

    app = web.Application(middlewares=[request_context])
    app.router.add_get("/broken", broken)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/broken")
        body = await response.json()
    assert response.status == 500 and body["request_id"]
    assert CANARY not in json.dumps(body) and CANARY not in captured_log.text
    [line] = [line for line in exception_lines(captured_log) if line["event"] == "http.unhandled"]
    assert line["exception"][0]["exc_type"] == "ValueError"
    assert any(frame["name"] == "broken" for frame in line["exception"][0]["frames"])


async def test_a_chained_exception_loses_every_message(captured_log: CapturedLog) -> None:
    """Both the exception and the one it was raised from are logged without their messages."""

    async def broken(request: web.Request) -> web.Response:
        try:
            raise KeyError(CANARY)
        except KeyError as exc:
            raise RuntimeError(CANARY) from exc

    app = web.Application(middlewares=[request_context])
    app.router.add_get("/broken", broken)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/broken")
        assert response.status == 500
    [line] = [line for line in exception_lines(captured_log) if line["event"] == "http.unhandled"]
    assert [stack["exc_type"] for stack in line["exception"]] == ["RuntimeError", "KeyError"]
    assert CANARY not in captured_log.text
