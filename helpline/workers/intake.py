"""The intake worker: routes what was accepted through the intake table into conversations (``core/intake.py``).

It keeps up to ``window`` messages being routed at once, oldest first (their transactions share the
store's group commits), and otherwise sleeps until a message is accepted or routed, or ``poll_seconds``
pass (to try again what failed, and at start to pick up what a stop left).

Answering webhooks comes first. While webhooks are being accepted, only ``busy_window`` messages are routed
at once, so a short burst of webhooks is answered at nearly the speed the server can accept them and the
routing catches up as it passes; when no webhook is waiting, the whole window is used. Once more than
``busy_window`` messages wait, routing takes the whole window even while webhooks arrive: under a sustained
load the two share the server, so the console falls behind no faster than it must. At a load the server
can keep up with, the two interleave and a message is routed within milliseconds of its answer.
"""

from __future__ import annotations

import asyncio
import contextlib

from helpline.core.intake import Intake
from helpline.log import get_logger

log = get_logger(__name__)


class IntakeWorker:
    def __init__(self, intake: Intake, *, window: int = 64, busy_window: int = 8, poll_seconds: float = 1.0) -> None:
        self._intake = intake
        self._window = window
        self._busy_window = busy_window
        self._poll_seconds = poll_seconds

    async def run(self) -> None:
        """Until cancelled: keep the routing window full, then wait for an arrival, a free slot or the poll."""
        routing: set[asyncio.Task[None]] = set()
        try:
            while True:
                # Webhooks first, unless routing has fallen behind: then both share the server.
                behind = self._intake.backlog > self._busy_window
                window = self._busy_window if self._intake.accepting and not behind else self._window
                if len(routing) < window:
                    try:
                        taken = await self._intake.take(window - len(routing))
                    except Exception as exc:  # noqa: BLE001 - the worker must outlive a bad round
                        log.error("intake.take_failed", error=type(exc).__name__)
                        taken = []
                    for waiting in taken:
                        task = asyncio.create_task(self._intake.route(waiting), name="intake-route")
                        routing.add(task)
                        task.add_done_callback(routing.discard)
                        task.add_done_callback(self._freed)
                    if taken:
                        continue
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_seconds):
                        await self._intake.arrival()
        finally:
            for task in routing:
                task.cancel()
            await asyncio.gather(*routing, return_exceptions=True)

    def _freed(self, task: asyncio.Task[None]) -> None:
        """A routing slot is free: wake the loop (after ``routing.discard``, which was added first)."""
        self._intake.wake()
