"""The meaning worker: reads each committed inbound message for meaning, in order, off the request path.

A message is handed over once its transaction has committed (``Conversations`` calls ``committed``, which
only appends to a bounded queue and never waits). The worker takes the queue in order, runs the model in a
thread of its own (the event loop keeps answering webhooks meanwhile; in the server the thread only waits on
the model's own low-priority process, ``semantic/process.py``) and hands what it found to ``RiskRaiser``,
which can only raise the conversation's priority. Under load it lags; it never slows a
webhook. When the queue is full the oldest waiting message is skipped (counted and logged, ids only): the
lexicon has already scanned it, and the newest messages matter most for the queue's order.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from helpline.core.risk_meaning import MeaningMatch, MeaningReader
from helpline.core.risk_raising import RiskRaiser
from helpline.log import get_logger

log = get_logger(__name__)


class MeaningWorker:
    """A bounded, ordered queue of committed inbound messages, and the loop that reads them."""

    def __init__(
        self,
        reader: MeaningReader,
        raiser: RiskRaiser,
        *,
        capacity: int,
        starter: Callable[[], str | None] | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        """``starter`` starts the model (blocking; None when it runs, else why not); ``on_close`` stops it."""
        self._reader = reader
        self._raiser = raiser
        self._capacity = capacity
        self._waiting: deque[tuple[str, str, str]] = deque()
        self._arrived = asyncio.Event()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="risk-meaning")
        self._starter = starter
        self._on_close = on_close
        self._enabled = True
        self.read_total = 0
        self.raised_total = 0
        self.skipped_total = 0

    @property
    def backlog(self) -> int:
        """Messages waiting to be read."""
        return len(self._waiting)

    async def start(self) -> str | None:
        """Start the model (off the event loop); None when it runs, else why not, and then nothing is queued."""
        if self._starter is None:
            return None
        problem = await asyncio.to_thread(self._starter)
        self._enabled = problem is None
        return problem

    def committed(self, conversation_id: str, message_id: str, body: str) -> None:
        """Queue a committed inbound message for reading; never blocks."""
        if not self._enabled:
            return
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
                # Choosing the sentences is quick (the lexicon); the model's reading is slow, and waited for
                # in the worker's thread.
                sentences = self._reader.select(body)
                matches: tuple[MeaningMatch, ...] = ()
                if sentences:
                    loop = asyncio.get_running_loop()
                    matches = await loop.run_in_executor(self._thread, self._reader.match, sentences)
                # Only what the risk words do not already say is kept and announced.
                novel = self._reader.novel(body, matches)
                if await self._raiser.apply(conversation_id, message_id, novel):
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

    def close(self) -> None:
        """Let the thread end (a reading in progress finishes first) and stop the model."""
        self._thread.shutdown(wait=False, cancel_futures=True)
        if self._on_close is not None:
            self._on_close()
