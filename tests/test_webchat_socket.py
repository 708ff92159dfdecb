"""Web chat over its socket: a contact and a volunteer, resuming, typing, the queue, leaving, idling."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from helpline.core.events import ContactLeft, ContactTyping, Event
from helpline.core.hours import OpeningHours
from tests.conftest import Console, Harness

TIMEOUT = 5.0


class ChatClient:
    """A contact's browser, speaking the chat socket's protocol; it fails a test on any duplicate message."""

    def __init__(self, harness: Harness, *, origin: str | None = None) -> None:
        self._harness = harness
        self._origin = origin or harness.settings.server.public_url
        self.session = aiohttp.ClientSession()
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.token: str | None = None
        self.messages: dict[int, dict[str, Any]] = {}
        self.frames: list[dict[str, Any]] = []
        self._unread: list[dict[str, Any]] = []
        self._counter = 0

    @property
    def url(self) -> str:
        return f"{self._harness.settings.server.public_url}/chat/ws"

    async def open(self) -> aiohttp.ClientWebSocketResponse:
        self._unread.clear()
        self.ws = await self.session.ws_connect(
            self.url, headers={"Origin": self._origin}, timeout=aiohttp.ClientWSTimeout(ws_close=TIMEOUT)
        )
        return self.ws

    async def connect(self, *, token: str | None = None, after: int | None = None) -> dict[str, Any]:
        """Open the socket and say hello (resuming with the kept token by default); returns the welcome."""
        ws = await self.open()
        last = max(self.messages, default=0) if after is None else after
        await ws.send_json({"type": "hello", "token": token if token is not None else self.token, "after": last})
        return await self.next("welcome")

    async def next(self, kind: str) -> dict[str, Any]:
        """The next frame of ``kind`` not yet taken, reading more as needed; messages are recorded as they come."""
        return await self._take(lambda frame: frame["type"] == kind)

    async def _take(self, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        for index, frame in enumerate(self._unread):
            if wanted(frame):
                return self._unread.pop(index)
        while True:
            frame = await self.receive()
            if wanted(frame):
                return frame
            self._unread.append(frame)

    async def receive(self) -> dict[str, Any]:
        assert self.ws is not None
        message = await self.ws.receive(timeout=TIMEOUT)
        assert message.type == aiohttp.WSMsgType.TEXT, f"socket closed: {message.type} {message.data} {message.extra}"
        frame: dict[str, Any] = json.loads(message.data)
        self.frames.append(frame)
        if frame["type"] == "session":
            self.token = frame["token"]
        if frame["type"] == "message":
            assert frame["seq"] not in self.messages, f"message {frame['seq']} arrived twice"
            self.messages[frame["seq"]] = frame
        return frame

    async def say(self, body: str, *, client_id: str | None = None) -> dict[str, Any]:
        """Send a message; returns its ack or the error that refused it."""
        assert self.ws is not None
        self._counter += 1
        ref = client_id or f"msg-{self._counter:04d}-{id(self):x}"
        await self.ws.send_json({"type": "message", "id": ref, "body": body})
        return await self._take(lambda frame: frame["type"] in ("ack", "error") and frame.get("ref") == ref)

    async def closed(self) -> tuple[int | None, str]:
        """Read until the server closes the socket; the close code and reason."""
        assert self.ws is not None
        while True:
            message = await self.ws.receive(timeout=TIMEOUT)
            if message.type == aiohttp.WSMsgType.TEXT:
                self.frames.append(json.loads(message.data))
                continue
            return self.ws.close_code, str(message.extra or "")

    def bodies(self, sender: str | None = None) -> list[str]:
        return [m["body"] for _, m in sorted(self.messages.items()) if sender is None or m["from"] == sender]

    async def drop(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def aclose(self) -> None:
        await self.drop()
        await self.session.close()


async def conversation_of(harness: Harness) -> str:
    """The id of the newest web chat conversation, as a volunteer's queue shows it."""
    conversations = await harness.helpline.conversations.waiting_order()
    assert conversations, "no web chat conversation is waiting"
    return conversations[-1]


async def volunteer_with(harness: Harness, conversation_id: str, name: str = "amira") -> Console:
    volunteer = await harness.console(name)
    response = await volunteer.post(f"/api/conversations/{conversation_id}/claim")
    assert response.status == 200, await response.text()
    return volunteer


async def next_event(subscription: Any, kind: type[Event]) -> Event:
    async def wait() -> Event:
        async for event in subscription:
            if isinstance(event, kind):
                return event
        raise AssertionError("the bus closed")

    return await asyncio.wait_for(wait(), TIMEOUT)


async def test_contact_chats_with_volunteer_end_to_end(harness: Harness) -> None:
    """A chat started on the socket is claimed, read, answered and closed like an SMS conversation."""
    contact = ChatClient(harness)
    try:
        welcome = await contact.connect()
        assert welcome["state"] == "new" and contact.token
        ack = await contact.say("My little brother ran away this morning")
        assert ack["type"] == "ack" and ack["id"]
        assert contact.bodies("you") == ["My little brother ran away this morning"]
        queued = await contact.next("queue")
        assert queued["position"] == 1 and "next" in queued["text"]

        volunteer = await harness.console("amira")
        [waiting] = await volunteer.queue()
        assert waiting["channel"] == "webchat" and waiting["status"] == "waiting"
        assert (await volunteer.post(f"/api/conversations/{waiting['id']}/claim")).status == 200
        joined = await contact.next("status")
        assert joined["state"] == "active"

        shown = await volunteer.conversation(waiting["id"])
        assert "My little brother ran away this morning" in [m["body"] for m in shown["messages"]]
        reply = await volunteer.post(
            f"/api/conversations/{waiting['id']}/messages", {"body": "I'm here. How old is he?"}
        )
        assert reply.status == 201
        await harness.send_outbox()
        while "I'm here. How old is he?" not in contact.bodies("volunteer"):
            await contact.next("message")
        delivered = await volunteer.conversation(waiting["id"])
        assert {m["delivery"] for m in delivered["messages"] if m["direction"] == "out"} == {"sent"}

        # "ran away" raises the risk band: closing with no safeguarding flag needs a short reason.
        form = {"outcome": "advice", "no_flag_reason": "He is home now; parents told."}
        closed = await volunteer.post(f"/api/conversations/{waiting['id']}/close", form)
        assert closed.status == 200
        ended = await contact.next("ended")
        assert ended["reason"] == "volunteer"
        assert await contact.closed() == (1000, "The chat has ended")
        assert harness.rows("SELECT COUNT(*) FROM vault") == [(0,)]
        assert harness.rows("SELECT COUNT(*) FROM routes") == [(0,)]
    finally:
        await contact.aclose()


async def test_reconnect_resumes_with_every_message_once(harness: Harness) -> None:
    """After a dropped socket the contact gets exactly what they missed: no gaps, no duplicates."""
    contact = ChatClient(harness)
    try:
        await contact.connect()
        await contact.say("first")
        conversation_id = await conversation_of(harness)
        volunteer = await volunteer_with(harness, conversation_id)
        await contact.drop()

        for text in ("while you were away 1", "while you were away 2"):
            await volunteer.post(f"/api/conversations/{conversation_id}/messages", {"body": text})
        await harness.send_outbox()

        welcome = await contact.connect()
        assert welcome["state"] == "active"
        await contact.say("back again")
        stored = harness.rows("SELECT seq FROM messages WHERE conversation_id = ? ORDER BY seq", (conversation_id,))
        assert sorted(contact.messages) == [seq for (seq,) in stored]
        assert contact.bodies("volunteer") == ["while you were away 1", "while you were away 2"]
        assert contact.bodies("you") == ["first", "back again"]
    finally:
        await contact.aclose()


async def test_resent_message_is_stored_once(harness: Harness) -> None:
    """A message resent after a reconnect with the same id is acknowledged as a duplicate and kept once."""
    contact = ChatClient(harness)
    try:
        await contact.connect()
        first = await contact.say("only once please", client_id="client-message-0001")
        await contact.drop()
        await contact.connect()
        again = await contact.say("only once please", client_id="client-message-0001")
        assert first["id"] and again == {"type": "ack", "ref": "client-message-0001", "duplicate": True}
        conversation_id = await conversation_of(harness)
        rows = harness.rows(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND direction = 'in'", (conversation_id,)
        )
        assert rows == [(1,)]
    finally:
        await contact.aclose()


async def test_typing_goes_both_ways(harness: Harness) -> None:
    """The contact's typing reaches the bus for the console; the volunteer's reaches the contact."""
    contact = ChatClient(harness)
    subscription = harness.helpline.bus.subscribe()
    try:
        await contact.connect()
        await contact.say("hello")
        conversation_id = await conversation_of(harness)
        assert contact.ws is not None
        await contact.ws.send_json({"type": "typing", "active": True})
        typing = await next_event(subscription, ContactTyping)
        assert typing == ContactTyping(conversation_id, True)

        volunteer = await volunteer_with(harness, conversation_id)
        typing_path = f"/api/conversations/{conversation_id}/typing"
        assert (await volunteer.post(typing_path, {"active": True})).status == 204
        assert (await contact.next("typing"))["active"] is True
        assert (await volunteer.post(typing_path, {"active": "yes"})).status == 400
        bystander = await harness.console("ben")
        assert (await bystander.post(typing_path, {"active": True})).status == 409
    finally:
        subscription.close()
        await contact.aclose()


async def test_queue_place_moves_live(harness: Harness) -> None:
    """A waiting contact is told when the one ahead of them is taken."""
    first, second = ChatClient(harness), ChatClient(harness)
    try:
        await first.connect()
        await first.say("one")
        first_id = await conversation_of(harness)
        harness.clock.advance(seconds=1)
        await second.connect()
        await second.say("two")
        assert (await second.next("queue"))["position"] == 2
        await volunteer_with(harness, first_id)
        moved = await second.next("queue")
        while moved["position"] != 1:  # a repeat of the old place may come first
            moved = await second.next("queue")
        assert moved["wait"] == "about 5 minutes"  # one place at the configured five minutes a place
    finally:
        await first.aclose()
        await second.aclose()


async def test_contact_ending_the_chat_is_shown_to_the_volunteer(harness: Harness) -> None:
    """The contact ends the chat: the volunteer sees a status line, replies are refused, the address is gone."""
    contact = ChatClient(harness)
    subscription = harness.helpline.bus.subscribe()
    try:
        await contact.connect()
        await contact.say("I have to go")
        conversation_id = await conversation_of(harness)
        volunteer = await volunteer_with(harness, conversation_id)
        assert contact.ws is not None
        await contact.ws.send_json({"type": "end", "reason": "ended"})
        assert (await contact.next("ended"))["reason"] == "ended"
        assert await next_event(subscription, ContactLeft) == ContactLeft(conversation_id, "ended")

        shown = await volunteer.conversation(conversation_id)
        assert shown["contact_left"] is True
        assert shown["messages"][-1]["direction"] == "system"
        assert shown["messages"][-1]["body"].startswith("The contact ended the chat.")
        refused = await volunteer.post(f"/api/conversations/{conversation_id}/messages", {"body": "hello?"})
        assert refused.status == 409
        assert harness.rows("SELECT COUNT(*) FROM vault WHERE conversation_id = ?", (conversation_id,)) == [(0,)]
        assert harness.rows("SELECT COUNT(*) FROM routes WHERE conversation_id = ?", (conversation_id,)) == [(0,)]
        assert (
            await volunteer.post(f"/api/conversations/{conversation_id}/close", {"outcome": "advice"})
        ).status == 200
    finally:
        subscription.close()
        await contact.aclose()


async def test_idle_chat_is_warned_then_ended(harness: Harness) -> None:
    """A quiet chat gets a warning first; "still here" puts the timeout off; then it ends as idle."""
    webchat = harness.helpline.webchat
    assert webchat is not None
    settings = harness.settings.webchat
    contact = ChatClient(harness)
    try:
        await contact.connect()
        await contact.say("hello")
        conversation_id = await conversation_of(harness)
        harness.clock.advance(seconds=settings.idle_timeout_seconds - settings.idle_warning_seconds)
        await webchat.sweeper.run_once()
        warning = await contact.next("idle_warning")
        assert warning["seconds_left"] == settings.idle_warning_seconds
        assert contact.ws is not None
        await contact.ws.send_json({"type": "still_here"})
        await contact.ws.send_json({"type": "ping"})
        await contact.next("pong")

        harness.clock.advance(seconds=settings.idle_warning_seconds + 1)
        await webchat.sweeper.run_once()  # the timer started again at "still here"
        harness.clock.advance(seconds=settings.idle_timeout_seconds)
        await webchat.sweeper.run_once()
        assert (await contact.next("ended"))["reason"] == "idle"
        rows = harness.rows("SELECT contact_left_reason FROM conversations WHERE id = ?", (conversation_id,))
        assert rows == [("idle",)]
    finally:
        await contact.aclose()


async def test_quiet_socket_gets_a_heartbeat(harness: Harness) -> None:
    """A socket with nothing to say for a heartbeat interval gets a heartbeat frame."""
    webchat = harness.helpline.webchat
    assert webchat is not None
    contact = ChatClient(harness)
    try:
        await contact.connect()
        harness.clock.advance(seconds=harness.settings.webchat.heartbeat_seconds)
        await webchat.sweeper.run_once()
        assert (await contact.next("heartbeat")) == {"type": "heartbeat"}
    finally:
        await contact.aclose()


async def test_out_of_hours_shows_the_signposting(harness: Harness) -> None:
    """When the helpline is closed a new chat is not started: the contact sees where else to turn."""
    harness.helpline.hours.current = OpeningHours.build("Europe/London", {}, "Closed.")
    contact = ChatClient(harness)
    try:
        welcome = await contact.connect()
        assert welcome["state"] == "closed" and welcome["open"] is False
        help_text = " ".join(welcome["out_of_hours"]["signposting"])
        assert "999" in help_text and "116 123" in help_text
        assert await contact.closed() == (1000, "The chat is closed just now")
        assert contact.token is None
    finally:
        await contact.aclose()


async def test_chat_continues_when_the_helpline_closes(harness: Harness) -> None:
    """A chat already under way goes on after closing time; only new chats are refused."""
    contact = ChatClient(harness)
    try:
        await contact.connect()
        await contact.say("started in time")
        harness.helpline.hours.current = OpeningHours.build("Europe/London", {}, "Closed.")
        await contact.drop()
        assert (await contact.connect())["state"] == "waiting"
        assert (await contact.say("still talking"))["type"] == "ack"
    finally:
        await contact.aclose()


@pytest.mark.parametrize("body", ["", "   ", "x" * 2001])
async def test_empty_or_too_long_message_is_refused_clearly(harness: Harness, body: str) -> None:
    """An empty or over-long message gets an error frame naming the problem, and nothing is stored."""
    contact = ChatClient(harness)
    try:
        await contact.connect()
        refused = await contact.say(body)
        assert refused["type"] == "error" and refused["code"] in ("empty", "too_long")
        assert refused["message"]
        assert harness.rows("SELECT COUNT(*) FROM messages") == [(0,)]
        assert (await contact.say("a real message"))["type"] == "ack"
    finally:
        await contact.aclose()
