"""Notifications to staff (the on-call supervisor), queued durably and sent with retries.

Their text names only the kind of escalation and where to look — never anything about a contact.
"""

from __future__ import annotations

from datetime import datetime

from helpline.clock import Clock
from helpline.core.models import StaffNotification
from helpline.core.ports import Store
from helpline.core.retry import DueRule


class StaffNotices:
    def __init__(self, store: Store, clock: Clock, rule: DueRule) -> None:
        self._store = store
        self._clock = clock
        self._rule = rule

    async def due(self, limit: int = 20) -> list[StaffNotification]:
        now = self._clock.now()
        return await self._store.read(lambda tx: tx.staff_notifications.due(now, limit))

    async def start(self, notice: StaffNotification) -> StaffNotification | None:
        """Count the attempt durably before sending; a crash then waits out the unconfirmed period.

        None if it is no longer due: another worker started it first, and only that one sends it.
        """
        now = self._clock.now()
        retry_at = self._rule.held_until(now)
        return await self._store.write(lambda tx: tx.staff_notifications.claim(notice.id, now, retry_at))

    async def sent(self, notice: StaffNotification) -> None:
        await self._set(notice, "done", notice.next_attempt_at)

    async def failed(self, notice: StaffNotification) -> None:
        await self._set(notice, "failed", notice.next_attempt_at)

    async def retry(self, notice: StaffNotification) -> None:
        if self._rule.gives_up(notice.attempts):
            await self.failed(notice)
            return
        await self._set(notice, "pending", self._rule.again_at(self._clock.now(), notice.attempts))

    async def _set(self, notice: StaffNotification, state: str, at: datetime) -> None:
        await self._store.write(lambda tx: tx.staff_notifications.update(notice.id, state, notice.attempts, at))
