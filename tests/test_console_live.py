"""The console's live socket: authenticated, same-origin only, ids and sequence numbers, no gaps."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType

from tests.conftest import Console, Harness

TIMEOUT = 5


async def connect(
    console: Console, origin: str | None = None, last: str | None = None
) -> aiohttp.ClientWebSocketResponse:
    url = console.client.make_url("/console/ws")
    if last is not None:
        url = url.with_query(last=last)
    headers = {"Origin": origin or f"{url.scheme}://{url.host}:{url.port}"}
    return await console.client.session.ws_connect(url, headers=headers, autoping=True)


async def receive(socket: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await socket.receive(timeout=TIMEOUT)
    assert message.type == WSMsgType.TEXT, message
    data: dict[str, Any] = json.loads(message.data)
    return data


async def events_until(socket: aiohttp.ClientWebSocketResponse, name: str) -> list[dict[str, Any]]:
    seen = []
    while True:
        frame = await receive(socket)
        seen.append(frame)
        if frame.get("event") == name:
            return seen


async def test_new_text_arrives_live_with_ids_only(harness: Harness) -> None:
    """A new SMS shows up on the socket as events carrying ids and consecutive sequence numbers, never text."""
    amira = await harness.console("amira")
    socket = await connect(amira)
    hello = await receive(socket)
    assert hello["type"] == "hello" and "resumed" not in hello
    await harness.text("+447700900123", "CANARY please help")
    frames = await events_until(socket, "message.added")
    assert [f["seq"] for f in frames] == list(range(hello["seq"] + 1, hello["seq"] + len(frames) + 1))
    opened = next(f for f in frames if f["event"] == "conversation.opened")
    assert set(opened) == {"type", "seq", "id", "event", "conversation_id"}
    text = json.dumps(frames)
    assert "CANARY" not in text and "447700900123" not in text
    await socket.close()


async def test_claim_is_seen_by_other_volunteers(harness: Harness) -> None:
    """When one volunteer claims, another's socket hears about it at once."""
    await harness.text("+447700900123", "hello")
    amira = await harness.console("amira")
    ben = await harness.console("ben")
    [waiting] = await amira.queue()
    socket = await connect(ben)
    await receive(socket)
    await amira.post(f"/api/conversations/{waiting['id']}/claim")
    frames = await events_until(socket, "conversation.claimed")
    assert frames[-1]["conversation_id"] == waiting["id"] and frames[-1]["assignee"] == "amira"
    await socket.close()


async def test_other_origin_is_refused(harness: Harness) -> None:
    """A page on another site cannot open the socket with a volunteer's cookie."""
    amira = await harness.console("amira")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await connect(amira, origin="https://evil.example")
    assert refused.value.status == 403


async def test_no_session_is_refused(harness: Harness) -> None:
    """Without a session the socket is not opened."""
    anonymous = await harness.console()
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await connect(anonymous)
    assert refused.value.status == 401


async def test_session_end_closes_the_socket(harness: Harness) -> None:
    """Once the session has ended, the next ping closes the socket with a reason."""
    amira = await harness.console("amira")
    socket = await connect(amira)
    await receive(socket)
    harness.clock.advance(hours=harness.settings.auth.session_absolute_hours + 1)
    await socket.send_str('{"type":"ping"}')
    message = await socket.receive(timeout=TIMEOUT)
    while message.type == WSMsgType.TEXT:  # events already on their way (the sign-in's) may come first
        message = await socket.receive(timeout=TIMEOUT)
    assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
    assert socket.close_code == 4401


async def test_ping_is_answered(harness: Harness) -> None:
    """The client's ping gets a pong."""
    amira = await harness.console("amira")
    socket = await connect(amira)
    await receive(socket)
    await socket.send_str('{"type":"ping"}')
    assert await receive(socket) == {"type": "pong"}
    await socket.close()


async def test_catch_up_after_reconnect_has_no_gaps(harness: Harness) -> None:
    """Messages sent while a console was disconnected are all there when it reloads after reconnecting."""
    await harness.text("+447700900123", "one")
    amira = await harness.console("amira")
    [waiting] = await amira.queue()
    await amira.post(f"/api/conversations/{waiting['id']}/claim")
    socket = await connect(amira)
    await receive(socket)
    await socket.close()
    await harness.text("+447700900123", "two")
    await harness.text("+447700900123", "three")
    socket = await connect(amira)  # subscribe first, then reload: nothing can fall between
    assert (await receive(socket))["type"] == "hello"
    bodies = [m["body"] for m in (await amira.conversation(waiting["id"]))["messages"] if m["direction"] == "in"]
    assert bodies == ["one", "two", "three"]
    await harness.text("+447700900123", "four")
    # Where instances share PostgreSQL, events committed just before the socket subscribed may come too.
    frames = await events_until(socket, "message.added")
    while frames[-1]["message_seq"] < 5:
        frames = await events_until(socket, "message.added")
    assert frames[-1]["message_seq"] == 5  # one, greeting, two, three, four
    await socket.close()


async def frames_until_id(socket: aiohttp.ClientWebSocketResponse, last_id: str) -> list[dict[str, Any]]:
    """Event frames (those with an id) until the one with ``last_id``."""
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1]["id"] != last_id:
        frame = await receive(socket)
        if frame["type"] == "event" and "id" in frame:
            seen.append(frame)
    return seen


def without_numbers(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in f.items() if k not in ("seq", "replay")} for f in frames]


async def test_a_console_that_lost_its_socket_resumes_after_its_last_event_id_with_nothing_missed(
    harness: Harness,
) -> None:
    """Reconnecting with the last event id, a console is sent exactly the events it missed, and reloads nothing."""
    amira = await harness.console("amira")
    ben = await harness.console("ben")
    witness = await connect(ben)  # connected throughout: what every console should have seen
    await receive(witness)
    socket = await connect(amira)
    await receive(socket)
    await harness.text("+447700900123", "one")
    seen = await events_until(socket, "message.added")
    last = seen[-1]["id"]
    await socket.close()
    await harness.text("+447700900123", "two")
    await harness.text("+447700900456", "three")
    # Everything the witness heard after the console's last event, up to a settled point.
    everything = await frames_until_id(witness, last)
    missed = await events_until(witness, "message.added")
    while len([f for f in missed if f.get("event") == "message.added"]) < 3:  # two; three and its greeting
        missed += await events_until(witness, "message.added")
    missed = [f for f in missed if "id" in f]
    assert everything[-1]["id"] == last

    socket = await connect(amira, last=last)
    hello = await receive(socket)
    assert hello["type"] == "hello" and hello["resumed"] is True and hello["last"] == last
    resumed = await frames_until_id(socket, missed[-1]["id"])
    assert without_numbers(resumed) == without_numbers(missed)
    assert [f["seq"] for f in resumed if "seq" in f] == list(range(hello["seq"] + 1, hello["seq"] + 1 + len(resumed)))
    await socket.close()
    await witness.close()


async def test_a_console_whose_last_event_id_is_unknown_is_told_to_reload(harness: Harness) -> None:
    """An id this server does not know (trimmed, or from before a restart) gets a plain hello: the page reloads."""
    amira = await harness.console("amira")
    for unknown in ("1.1", "not-an-id", "9" * 80):
        socket = await connect(amira, last=unknown)
        hello = await receive(socket)
        assert hello["type"] == "hello" and "resumed" not in hello and isinstance(hello["last"], str)
        await socket.close()
