"""``/api`` for conversations: the queue, claiming, reading, replying, notes, transfers, closing, blocking."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from helpline.core.blocks import Blocks
from helpline.core.closing import Closer, ClosingForm
from helpline.core.conversations import Conversations
from helpline.core.models import RecordFields
from helpline.core.notes import Notes
from helpline.core.routing import Routing
from helpline.core.shift import Shift
from helpline.errors import InvalidInput
from helpline.web import presenters
from helpline.web.auth import SessionAuth
from helpline.web.requests import bool_field, int_field, optional_text, path_id, read_json, text_field


class ConversationApi:
    def __init__(
        self,
        auth: SessionAuth,
        conversations: Conversations,
        routing: Routing,
        notes: Notes,
        closer: Closer,
        blocks: Blocks,
        shift: Shift,
    ) -> None:
        self._auth = auth
        self._conversations = conversations
        self._routing = routing
        self._notes = notes
        self._closer = closer
        self._blocks = blocks
        self._shift = shift

    async def queue(self, request: web.Request) -> web.Response:
        session = await self._auth.session(request)
        queue = await self._conversations.queue(session.user)
        holding = sum(1 for c in queue.conversations if c.assignee_id == session.user.id)
        entries = [presenters.queue_entry(c, session.user, queue.unanswered, queue.why) for c in queue.conversations]
        return web.json_response(
            {
                "conversations": entries,
                "holding": holding,
                "max_concurrent": self._routing.max_concurrent,
            }
        )

    async def take_next(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        taken = await self._routing.take_next(session.user)
        return web.json_response(presenters.conversation_summary(taken))

    async def conversation(self, request: web.Request) -> web.Response:
        session = await self._auth.session(request)
        view = await self._conversations.view(session.user, path_id(request, "conversation_id"))
        return web.json_response(presenters.conversation_view(view))

    async def claim(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        claimed = await self._routing.claim(session.user, path_id(request, "conversation_id"))
        return web.json_response(presenters.conversation_summary(claimed))

    async def reply(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        target = path_id(request, "conversation_id")
        body = text_field(await read_json(request), "body")
        message_id = await self._conversations.reply(session.user, target, body)
        return web.json_response({"id": message_id, "delivery": "queued"}, status=201)

    async def typing(self, request: web.Request) -> web.Response:
        """The volunteer started or stopped typing: a hint for a web chat contact; nothing is stored."""
        session = await self._auth.session_for_change(request)
        active = bool_field(await read_json(request), "active")
        await self._conversations.volunteer_typing(session.user, path_id(request, "conversation_id"), active)
        return web.Response(status=204)

    async def add_note(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        target = path_id(request, "conversation_id")
        body = text_field(await read_json(request), "body")
        note_id = await self._notes.add(session.user, target, body)
        return web.json_response({"id": note_id}, status=201)

    async def transfer(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        target = path_id(request, "conversation_id")
        data = await read_json(request)
        to = optional_text(data, "to", max_chars=64)
        note = text_field(data, "note", max_chars=4000, required=False)
        moved = await self._routing.transfer(session.user, target, to, note)
        return web.json_response(presenters.conversation_summary(moved))

    async def close(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        target = path_id(request, "conversation_id")
        form = closing_form(await read_json(request))
        await self._closer.close(session.user, target, form)
        return web.json_response({"id": target, "status": "closed"})

    async def block(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        target = path_id(request, "conversation_id")
        data = await read_json(request)
        reason = text_field(data, "reason", max_chars=300)
        block_id = await self._blocks.block(session.user, target, reason, int_field(data, "days"))
        return web.json_response({"block_id": block_id})

    async def available_staff(self, request: web.Request) -> web.Response:
        session = await self._auth.session(request)
        staff = await self._shift.available_staff(session.user)
        return web.json_response({"volunteers": [{"username": s.username, "holding": len(s.holding)} for s in staff]})


def closing_form(data: dict[str, Any]) -> ClosingForm:
    """The closing form from its JSON, with a record only when the contact consented."""
    record = None
    raw = data.get("record")
    if raw is not None:
        if not isinstance(raw, dict):
            raise InvalidInput("The record must be an object with name, date_of_birth, contact_details and summary.")
        record = RecordFields(
            name=text_field(raw, "name", max_chars=200, required=False),
            date_of_birth=text_field(raw, "date_of_birth", max_chars=40, required=False),
            contact_details=text_field(raw, "contact_details", max_chars=1000, required=False),
            summary=text_field(raw, "summary", max_chars=8000, required=False),
        )
    return ClosingForm(
        outcome=text_field(data, "outcome", max_chars=64),
        contact_type=optional_text(data, "contact_type", max_chars=64),
        missing_type=optional_text(data, "missing_type", max_chars=64),
        consent=bool_field(data, "consent"),
        record=record,
        no_flag_reason=text_field(data, "no_flag_reason", max_chars=1000, required=False),
    )
