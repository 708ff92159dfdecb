"""The shift worker: returns to the queue the conversations of holders whose console is no longer live.

``run_once`` does one round (tests drive it with a fake clock); ``run`` repeats it every ``tick_seconds``.
"""

from __future__ import annotations

import asyncio

from helpline.core.shift import Shift
from helpline.log import get_logger

log = get_logger(__name__)


class ShiftWorker:
    def __init__(self, shift: Shift, *, tick_seconds: float = 5.0) -> None:
        self._shift = shift
        self._tick = tick_seconds

    async def run_once(self) -> int:
        """Return what absent holders hold; returns how many conversations went back."""
        return await self._shift.return_absent()

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception as exc:  # noqa: BLE001 - the timer must outlive a bad round
                log.error("shift.round_failed", error=type(exc).__name__)
            await asyncio.sleep(self._tick)
