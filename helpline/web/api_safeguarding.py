"""``/api`` for safeguarding: flags and escalations, joining and whispering, break-glass disclosure."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from helpline.clock import to_text
from helpline.core.disclosure import Disclosures
from helpline.core.escalation import Escalations, EscalationView
from helpline.core.models import Disclosure
from helpline.core.oversight import Oversight
from helpline.core.shift import Shift
from helpline.errors import InvalidInput
from helpline.web.auth import SessionAuth
from helpline.web.requests import path_id, read_json, text_field


def _time(value: Any) -> str | None:
    return to_text(value) if value is not None else None


def escalation_json(view: EscalationView) -> dict[str, Any]:
    e = view.escalation
    return {
        "id": e.id,
        "conversation_id": e.conversation_id,
        "category": e.category,
        "level": e.level,
        "state": e.state,
        "note": view.note,
        "raised_by": view.raised_by,
        "raised_at": to_text(e.raised_at),
        "acknowledged_at": _time(e.acknowledged_at),
        "acknowledged_by": view.acknowledged_by,
        "decision": e.decision,
        "decision_note": view.decision_note,
        "decided_at": _time(e.decided_at),
        "decided_by": view.decided_by,
        "closed_at": _time(e.closed_at),
        "alerts": e.alerts,
        "oncall_notified": e.oncall_notified_at is not None,
    }


def disclosure_json(d: Disclosure) -> dict[str, Any]:
    return {
        "id": d.id,
        "conversation_id": d.conversation_id,
        "requested_by": d.requested_by_name,
        "requested_at": to_text(d.requested_at),
        "reason": d.reason,
        "state": d.state,
    }


class SafeguardingApi:
    def __init__(
        self,
        auth: SessionAuth,
        escalations: Escalations,
        oversight: Oversight,
        disclosures: Disclosures,
        shift: Shift,
        *,
        oncall_channel: str,
        emergency_instruction: str,
    ) -> None:
        self._shift = shift
        self._oncall_channel = oncall_channel
        self._emergency_instruction = emergency_instruction
        self._auth = auth
        self._escalations = escalations
        self._oversight = oversight
        self._disclosures = disclosures

    async def flag(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        data = await read_json(request)
        escalation_id = await self._escalations.raise_flag(
            session.user,
            path_id(request, "conversation_id"),
            text_field(data, "category", max_chars=40),
            text_field(data, "level", max_chars=40),
            text_field(data, "note", max_chars=4000, required=False),
        )
        # What actually happened, for the volunteer: who was alerted, or that nobody could be.
        supervisors = await self._shift.supervisors_online()
        alerted = {
            "supervisors_online": supervisors,
            "oncall_channel": self._oncall_channel or None,
            "emergency_instruction": None if supervisors or self._oncall_channel else self._emergency_instruction,
        }
        return web.json_response({"escalation_id": escalation_id, "alerted": alerted}, status=201)

    async def escalations(self, request: web.Request) -> web.Response:
        session = await self._auth.session(request)
        closed = request.query.get("closed")
        if closed is not None:
            # ?closed=1 (the last day: handover) or ?closed=7 (the week's history).
            if closed not in ("1", "7", "30"):
                raise InvalidInput("closed is 1, 7 or 30 (days).")
            views = await self._escalations.closed_since(session.user, int(closed))
        else:
            views = await self._escalations.open_escalations(session.user)
        return web.json_response({"escalations": [escalation_json(v) for v in views]})

    async def conversation_escalations(self, request: web.Request) -> web.Response:
        session = await self._auth.session(request)
        views = await self._escalations.for_conversation(session.user, path_id(request, "conversation_id"))
        return web.json_response({"escalations": [escalation_json(v) for v in views]})

    async def acknowledge(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        await self._escalations.acknowledge(session.user, path_id(request, "escalation_id", "escalation"))
        return web.json_response({"state": "acknowledged"})

    async def decide(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        data = await read_json(request)
        await self._escalations.decide(
            session.user,
            path_id(request, "escalation_id", "escalation"),
            text_field(data, "decision", max_chars=40),
            text_field(data, "note", max_chars=4000, required=False),
        )
        return web.json_response({"state": "decided"})

    async def close(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        await self._escalations.close(session.user, path_id(request, "escalation_id", "escalation"))
        return web.json_response({"state": "closed"})

    async def join(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        await self._oversight.join(session.user, path_id(request, "conversation_id"))
        return web.json_response({"joined": True})

    async def whisper(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        body = text_field(await read_json(request), "body", max_chars=2000)
        whisper_id = await self._oversight.whisper(session.user, path_id(request, "conversation_id"), body)
        return web.json_response({"id": whisper_id}, status=201)

    async def request_disclosure(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        reason = text_field(await read_json(request), "reason", max_chars=2000)
        disclosure = await self._disclosures.request(session.user, path_id(request, "conversation_id"), reason)
        return web.json_response(disclosure_json(disclosure), status=201)

    async def disclosures(self, request: web.Request) -> web.Response:
        session = await self._auth.session(request)
        pending = await self._disclosures.pending(session.user)
        return web.json_response({"disclosures": [disclosure_json(d) for d in pending]})

    async def approve(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        await self._disclosures.decide(session.user, path_id(request, "disclosure_id", "disclosure"), approve=True)
        return web.json_response({"state": "approved"})

    async def refuse(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        await self._disclosures.decide(session.user, path_id(request, "disclosure_id", "disclosure"), approve=False)
        return web.json_response({"state": "refused"})

    async def reveal(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        revealed = await self._disclosures.reveal(session.user, path_id(request, "disclosure_id", "disclosure"))
        return web.json_response({"address": revealed.address, "channel": revealed.channel})
