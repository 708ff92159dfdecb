"""``/api`` for supervisors and records: the floor, blocks, and consented records (every read audited)."""

from __future__ import annotations

from aiohttp import web

from helpline.clock import to_text
from helpline.core.blocks import Blocks
from helpline.core.floor import FloorView
from helpline.core.records import Records
from helpline.web.auth import SessionAuth
from helpline.web.requests import path_id


class OversightApi:
    def __init__(self, auth: SessionAuth, floor: FloorView, blocks: Blocks, records: Records) -> None:
        self._auth = auth
        self._floor = floor
        self._blocks = blocks
        self._records = records

    async def floor(self, request: web.Request) -> web.Response:
        session = await self._auth.session(request)
        floor = await self._floor.snapshot(session.user)
        return web.json_response(
            {
                "waiting": floor.waiting,
                "longest_wait_seconds": floor.longest_wait_seconds,
                "active": floor.active,
                "volunteers_available": floor.volunteers_available,
                "staff": [
                    {
                        "username": s.username,
                        "roles": s.roles,
                        "availability": s.availability,
                        "present": s.present,
                        "available": s.available,
                        "holding": [{"id": c.id, "channel": c.channel, "priority": c.priority} for c in s.holding],
                    }
                    for s in floor.staff
                ],
            }
        )

    async def blocks(self, request: web.Request) -> web.Response:
        session = await self._auth.session(request)
        blocks = await self._blocks.active(session.user)
        return web.json_response(
            {
                "blocks": [
                    {
                        "id": b.id,
                        "reason": b.reason,
                        "created_at": to_text(b.created_at),
                        "expires_at": to_text(b.expires_at),
                        "created_by": b.created_by,
                    }
                    for b in blocks
                ]
            }
        )

    async def lift_block(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        await self._blocks.lift(session.user, path_id(request, "block_id", "block"))
        return web.json_response({"lifted": True})

    async def record(self, request: web.Request) -> web.Response:
        session = await self._auth.session(request)
        view = await self._records.read(session.user, path_id(request, "record_id", "record"))
        return web.json_response(
            {
                "id": view.id,
                "name": view.fields.name,
                "date_of_birth": view.fields.date_of_birth,
                "contact_details": view.fields.contact_details,
                "summary": view.fields.summary,
                "consent_wording": view.consent_wording,
                "consented_at": to_text(view.consented_at),
                "created_by": view.created_by,
                "conversations": view.conversation_ids,
            }
        )
