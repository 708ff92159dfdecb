"""The safeguarding worker: re-alerts unacknowledged escalations and sends on-call notifications.

``run_once`` does one round (tests drive it with a fake clock); ``run`` repeats it every ``tick_seconds``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from helpline.core.escalation import Escalations
from helpline.core.ports import Sender
from helpline.core.staff_notices import StaffNotices
from helpline.errors import PermanentProviderError, ProviderError
from helpline.log import get_logger

log = get_logger(__name__)


class SafeguardingWorker:
    def __init__(
        self,
        escalations: Escalations,
        notices: StaffNotices,
        senders: Mapping[str, Sender],
        *,
        oncall_address: str,
        tick_seconds: float = 5.0,
    ) -> None:
        self._escalations = escalations
        self._notices = notices
        self._senders = senders
        self._oncall_address = oncall_address
        self._tick = tick_seconds

    async def run_once(self) -> tuple[int, int]:
        """Re-alert what is due and send waiting notifications; returns (re-alerted, sent)."""
        realerted = await self._escalations.alert_due()
        sent = 0
        for notice in await self._notices.due():
            sender = self._senders.get(notice.channel)
            if sender is None or not self._oncall_address:
                log.error("safeguarding.oncall_unreachable", notice_id=notice.id, channel=notice.channel)
                await self._notices.failed(notice)
                continue
            started = await self._notices.start(notice)
            if started is None:
                continue
            try:
                await sender.send(self._oncall_address, started.body, started.id)
            except PermanentProviderError as exc:
                log.error("safeguarding.oncall_failed", notice_id=notice.id, code=exc.code)
                await self._notices.failed(started)
            except ProviderError as exc:
                log.warning("safeguarding.oncall_retry", notice_id=notice.id, code=exc.code)
                await self._notices.retry(started)
            else:
                log.info("safeguarding.oncall_notified", notice_id=notice.id, channel=notice.channel)
                await self._notices.sent(started)
                sent += 1
        return realerted, sent

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception as exc:  # noqa: BLE001 - the timer must outlive a bad round
                log.error("safeguarding.round_failed", error=type(exc).__name__)
            await asyncio.sleep(self._tick)
