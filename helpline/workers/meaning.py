"""The meaning worker: reads each committed inbound message for meaning, in order, off the request path.

A message is handed over once its transaction has committed (``Conversations`` calls ``committed``, which
only appends to a bounded queue and never waits). The worker takes the queue in order, runs the model in a
thread (``asyncio.to_thread``: the event loop keeps answering webhooks meanwhile) and hands what it found
to ``RiskRaiser``, which can only raise the conversation's priority. Under load it lags; it never slows a
webhook. When the queue is full the oldest waiting message is skipped (counted and logged, ids only): the
lexicon has already scanned it, and the newest messages matter most for the queue's order.
"""

from __future__ import annotations

import asyncio
from collections import deque

from helpline.core.risk_meaning import MeaningReader
from helpline.core.risk_raising import RiskRaiser
from helpline.log import get_logger

log = get_logger(__name__)


class MeaningWorker:
    """A bounded, ordered queue of committed inbound messages, and the loop that reads them."""

    def __init__(self, reader: MeaningReader, raiser: RiskRaiser, *, capacity: int) -> None:
        self._reader = reader
        self._raiser = raiser
        self._capacity = capacity
        self._waiting: deque[tuple[str, str, str]] = deque()
        self._arrived = asyncio.Event()
        self.read_total = 0
        self.raised_total = 0
        self.skipped_total = 0

    @property
    def backlog(self) -> int:
        """Messages waiting to be read."""
        return len(self._waiting)

    def committed(self, conversation_id: str, message_id: str, body: str) -> None:
        """Queue a committed inbound message for reading; never blocks."""
        if len(self._waiting) >= self._capacity:
            skipped_conversation, skipped_message, _ = self._waiting.popleft()
            self.skipped_total += 1
            log.warning("risk.meaning_skipped", conversation_id=skipped_conversation, message_id=skipped_message)
        self._waiting.append((conversation_id, message_id, body))
        self._arrived.set()

    async def run_once(self) -> int:
        """Read every message waiting now, in order; returns how many were read."""
        done = 0
        while self._waiting:
            conversation_id, message_id, body = self._waiting.popleft()
            try:
                matches = await asyncio.to_thread(self._reader.read, body)
                if await self._raiser.apply(conversation_id, message_id, matches):
                    self.raised_total += 1
            except Exception as exc:  # noqa: BLE001 - one bad message must not stop the reading of the rest
                log.error("risk.meaning_failed", conversation_id=conversation_id, error=type(exc).__name__)
            self.read_total += 1
            done += 1
        return done

    async def run(self) -> None:
        """Until cancelled: wait for a committed message, then read all that wait."""
        while True:
            await self._arrived.wait()
            self._arrived.clear()
            await self.run_once()
