"""The chat socket's protocol: JSON text frames, each an object with a ``type``.

From the contact's browser::

    hello      {token: str | null, after: int}   first frame; no token starts a new chat
    message    {id: str, body: str}              id: the client's own, unique within the chat (8–64 of A-Za-z0-9_-)
    typing     {active: bool}
    still_here {}                                after an idle warning
    end        {reason: "ended" | "quick_exit"}
    ping       {}

From the server::

    session      {token}                          a new chat's token: kept in sessionStorage, nowhere else
    welcome      {state, open, limits, ...}       answer to hello; state is new, waiting, active or closed
    message      {id, seq, from, body, at}        from: you, volunteer or helpline (an automatic message)
    ack          {ref, id?, seq?, duplicate?}     a message was stored (ref: the client's id)
    queue        {position, wait}                 while waiting, whenever the queue moves
    status       {state, text}                    e.g. a volunteer joined
    typing       {active}
    idle_warning {seconds_left}
    ended        {reason, text}                   then the server closes the socket (1000)
    error        {code, message, ref?, retry_after?}   a refusal; the socket stays open
    heartbeat    {}, pong {}

Messages carry per-conversation sequence numbers. ``hello.after`` is the last one the browser has shown;
the server sends everything after it, in order, once: no gaps, no duplicates, across any reconnect.
A resent ``message`` with an id the server has stored is acknowledged as a duplicate and stored once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from helpline import strict_json

# Close codes (4000 to 4999 are the application's own). The reason text says the same in words.
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_BAD_HELLO = 4400
CLOSE_FORGED = 4401
CLOSE_ENDED = 4410
CLOSE_BUSY = 4429

MAX_BAD_FRAMES = 20
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_MAX_SEQ = 2**53


class FrameError(Exception):
    """A frame the server cannot use; ``code`` and ``message`` go back to the browser."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Hello:
    token: str | None = field(repr=False)
    after: int


@dataclass(frozen=True)
class Send:
    client_id: str
    body: str = field(repr=False)


@dataclass(frozen=True)
class Typing:
    active: bool


@dataclass(frozen=True)
class StillHere:
    pass


@dataclass(frozen=True)
class End:
    reason: str


@dataclass(frozen=True)
class Ping:
    pass


Frame = Hello | Send | Typing | StillHere | End | Ping


def valid_client_id(value: object) -> bool:
    return isinstance(value, str) and bool(_CLIENT_ID.match(value))


def parse(text: str) -> Frame:
    """One frame from the browser, or ``FrameError`` saying what is wrong with it."""
    try:
        data = strict_json.loads(text)
    except strict_json.UnusableJsonError as exc:
        raise FrameError("bad_frame", f"The chat could not read that: {exc.reason}.") from None
    if not isinstance(data, dict):
        raise FrameError("bad_frame", "The chat could not read that: a frame must be a JSON object.")
    kind = data.get("type")
    if kind == "hello":
        return _hello(data)
    if kind == "message":
        client_id, body = data.get("id"), data.get("body")
        if not valid_client_id(client_id) or not isinstance(body, str):
            raise FrameError("bad_frame", "A message needs an id and a text body.")
        assert isinstance(client_id, str)  # noqa: S101 - checked by valid_client_id
        return Send(client_id, body)
    if kind == "typing":
        active = data.get("active")
        if not isinstance(active, bool):
            raise FrameError("bad_frame", "A typing frame needs active: true or false.")
        return Typing(active)
    if kind == "still_here":
        return StillHere()
    if kind == "end":
        reason = data.get("reason", "ended")
        if reason not in ("ended", "quick_exit"):
            raise FrameError("bad_frame", "An end frame's reason is ended or quick_exit.")
        return End(reason)
    if kind == "ping":
        return Ping()
    raise FrameError("unknown_type", "The chat does not know that kind of frame.")


def _hello(data: dict[str, Any]) -> Hello:
    token, after = data.get("token"), data.get("after", 0)
    if token is not None and not isinstance(token, str):
        raise FrameError("bad_frame", "hello.token must be text or null.")
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after < _MAX_SEQ:
        raise FrameError("bad_frame", "hello.after must be a whole number, 0 or more.")
    return Hello(token or None, after)


def encode(kind: str, **fields: Any) -> str:
    """One frame for the browser."""
    return json.dumps({"type": kind, **fields}, separators=(",", ":"), ensure_ascii=False)
