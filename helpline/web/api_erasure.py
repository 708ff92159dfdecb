"""``POST /api/admin/records/{record_id}/erase``: an admin erases a record and what it links, on request."""

from __future__ import annotations

from aiohttp import web

from helpline.core.erasure import Erasure
from helpline.web.auth import SessionAuth
from helpline.web.requests import path_id


class ErasureApi:
    def __init__(self, auth: SessionAuth, erasure: Erasure) -> None:
        self._auth = auth
        self._erasure = erasure

    async def erase_record(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        erased = await self._erasure.erase(session.user, path_id(request, "record_id", "record"))
        return web.json_response(
            {
                "id": erased.record_id,
                "erased": True,
                "conversations": erased.conversations,
                "held": [{"id": cid, "why": why} for cid, why in erased.held.items()],
            }
        )
