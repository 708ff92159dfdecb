"""The floor view for supervisors: counts and who holds what, never content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from helpline.clock import Clock
from helpline.core.models import StaffMember, User
from helpline.core.ports import Store, Tx
from helpline.core.shift import Shift
from helpline.errors import Forbidden


@dataclass(frozen=True)
class Floor:
    waiting: int
    longest_wait_seconds: int
    active: int
    volunteers_available: int
    staff: list[StaffMember]


class FloorView:
    def __init__(self, store: Store, clock: Clock, shift: Shift) -> None:
        self._store = store
        self._clock = clock
        self._shift = shift

    async def snapshot(self, user: User) -> Floor:
        if not user.is_supervisor:
            raise Forbidden("Only supervisors can see the floor.")
        now = self._clock.now()

        async def work(tx: Tx) -> tuple[int, datetime | None, list[StaffMember]]:
            waiting, oldest = await tx.conversations.waiting_stats()
            held = await tx.conversations.held()
            staff = [
                StaffMember(
                    u.username,
                    u.role_names,
                    u.availability,
                    [c for c in held if c.assignee_id == u.id],
                    present=self._shift.present(u),
                    available=self._shift.available(u),
                )
                for u in await tx.users.all()
                if not u.disabled and u.reads_conversations
            ]
            return waiting, oldest, staff

        waiting, oldest, staff = await self._store.read(work)
        return Floor(
            waiting=waiting,
            longest_wait_seconds=int((now - oldest).total_seconds()) if oldest else 0,
            active=sum(len(s.holding) for s in staff),
            volunteers_available=sum(1 for s in staff if s.available),
            staff=staff,
        )
