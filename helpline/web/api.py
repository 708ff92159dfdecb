"""The console's JSON API. Handlers parse and check input, call the core, and present the result."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from helpline.core.accounts import Accounts
from helpline.core.conversations import Conversations
from helpline.errors import InvalidInput, NotFound, NotSignedIn
from helpline.settings import Outcome
from helpline.web import presenters
from helpline.web.auth import COOKIE, SessionAuth

_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_JSON_BYTES = 64 * 1024


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or a clear 400."""
    if request.content_type != "application/json":
        raise InvalidInput("Send JSON (Content-Type: application/json).")
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise InvalidInput("The request is too large.")
    raw = await request.read()
    if len(raw) > MAX_JSON_BYTES:
        raise InvalidInput("The request is too large.")
    try:
        data = json.loads(raw.decode("utf-8")) if raw else {}
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.")
    return data


def text_field(data: dict[str, Any], name: str, *, max_chars: int = 10_000) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise InvalidInput(f"The field '{name}' is required and must be text.")
    if len(value) > max_chars:
        raise InvalidInput(f"The field '{name}' is too long.")
    return value


def conversation_id(request: web.Request) -> str:
    value = request.match_info["conversation_id"]
    if not _ID.match(value):
        raise NotFound("There is no such conversation.")
    return value


class ConsoleApi:
    """``/api/*``: sign-in, the queue, and conversations."""

    def __init__(
        self, auth: SessionAuth, accounts: Accounts, conversations: Conversations, outcomes: Sequence[Outcome]
    ) -> None:
        self._auth = auth
        self._accounts = accounts
        self._conversations = conversations
        self._outcomes = [{"code": o.code, "label": o.label} for o in outcomes]

    async def login(self, request: web.Request) -> web.Response:
        # JSON only: a cross-site form cannot send it without a CORS preflight, so login needs no token.
        data = await read_json(request)
        username = text_field(data, "username", max_chars=64)
        password = text_field(data, "password", max_chars=1024)
        previous = request.cookies.get(COOKIE)
        signed_in = await self._accounts.sign_in(username, password)
        if previous:
            await self._end_previous(previous)
        user = signed_in.session.user
        response = web.json_response(
            {"csrf_token": signed_in.session.csrf_token, "user": _user(user.username, user.role)}
        )
        self._auth.set_cookie(response, signed_in)
        return response

    async def _end_previous(self, token: str) -> None:
        try:
            session = await self._accounts.session(token)
        except NotSignedIn:
            return
        await self._accounts.sign_out(session)

    async def logout(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        await self._accounts.sign_out(session)
        response = web.json_response({"signed_out": True})
        self._auth.clear_cookie(response)
        response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
        return response

    async def session(self, request: web.Request) -> web.Response:
        session = await self._auth.session(request)
        return web.json_response(
            {
                "csrf_token": session.csrf_token,
                "user": _user(session.user.username, session.user.role),
                "outcomes": self._outcomes,
            }
        )

    async def queue(self, request: web.Request) -> web.Response:
        session = await self._auth.session(request)
        conversations = await self._conversations.queue(session.user)
        return web.json_response({"conversations": [presenters.conversation_summary(c) for c in conversations]})

    async def conversation(self, request: web.Request) -> web.Response:
        session = await self._auth.session(request)
        view = await self._conversations.view(session.user, conversation_id(request))
        return web.json_response(presenters.conversation_view(view))

    async def claim(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        claimed = await self._conversations.claim(session.user, conversation_id(request))
        return web.json_response({"id": claimed.id, "status": claimed.status, "assignee": claimed.assignee_name})

    async def reply(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        target = conversation_id(request)
        body = text_field(await read_json(request), "body")
        message_id = await self._conversations.reply(session.user, target, body)
        return web.json_response({"id": message_id, "delivery": "queued"}, status=201)

    async def close(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        target = conversation_id(request)
        outcome = text_field(await read_json(request), "outcome", max_chars=64)
        await self._conversations.close(session.user, target, outcome)
        return web.json_response({"id": target, "status": "closed"})


def _user(username: str, role: str) -> dict[str, str]:
    return {"username": username, "role": role}
