"""Canned responses: short replies kept by admins, inserted by volunteers with ``/code``."""

from __future__ import annotations

import re

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.ids import new_id
from helpline.core.models import CannedResponse, User
from helpline.core.ports import Store, Tx
from helpline.errors import Conflict, Forbidden, InvalidInput, NotFound

CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,29}$")


class Canned:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def all(self) -> list[CannedResponse]:
        return await self._store.read(lambda tx: tx.canned.all())

    async def save(self, user: User, canned_id: str | None, code: str, title: str, body: str) -> str:
        """Add (``canned_id`` None) or change a canned response."""
        if not user.is_admin:
            raise Forbidden("Only admins can change canned responses.")
        if not CODE.match(code):
            raise InvalidInput("A code is 1–30 lower-case letters, digits or dashes, like 'welcome'.")
        if not title.strip() or len(title) > 100:
            raise InvalidInput("Give a title of at most 100 characters.")
        if not body.strip() or len(body) > 1600:
            raise InvalidInput("The response must have text, at most 1600 characters.")
        now = self._clock.now()
        response = CannedResponse(canned_id or new_id(), code, title.strip(), body)

        async def work(tx: Tx) -> None:
            if canned_id is not None and canned_id not in {c.id for c in await tx.canned.all()}:
                raise NotFound("There is no such canned response.")
            if not await tx.canned.upsert(response, now):
                raise Conflict(f"Another response already uses the code '{code}'.")
            await tx.audit.append(AuditEntry(now, user.id, Action.CANNED_CHANGED, response.id, {"change": "saved"}))

        await self._store.write(work)
        return response.id

    async def delete(self, user: User, canned_id: str) -> None:
        if not user.is_admin:
            raise Forbidden("Only admins can change canned responses.")
        now = self._clock.now()

        async def work(tx: Tx) -> None:
            if not await tx.canned.delete(canned_id):
                raise NotFound("There is no such canned response.")
            await tx.audit.append(AuditEntry(now, user.id, Action.CANNED_CHANGED, canned_id, {"change": "deleted"}))

        await self._store.write(work)
