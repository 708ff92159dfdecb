"""The outbound worker: takes due replies from the outbox and sends them through their channel.

``run`` wakes when a reply is queued (an ``OutboxReady`` event) and otherwise every ``poll_seconds``,
for retries whose time has come. Sends run concurrently, at most ``concurrency`` at a time.

As it starts, ``run`` first takes every send a stopped process left unfinished (``recover``), on the
channels whose provider can be asked whether it already has the message (``lookups``); a resumed send is
checked with the provider before it is sent again (see ``core/delivery.py``), so a reply is never sent twice
and, with one process, never waits because of a restart. Where instances share the database it takes only
the sends whose ``outbox.send_lease_seconds`` have passed: one within it may be in flight at another instance.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from helpline.core.delivery import Delivery, Job
from helpline.core.events import OutboxReady
from helpline.core.models import OutboxItem
from helpline.core.ports import Notifier, Sender, SentLookup
from helpline.errors import PermanentProviderError, ProviderError, TransientProviderError, UnconfirmedSendError
from helpline.log import get_logger

log = get_logger(__name__)


class OutboundWorker:
    """Drives ``Delivery`` for every due outbox item."""

    def __init__(
        self,
        delivery: Delivery,
        senders: Mapping[str, Sender],
        notifier: Notifier,
        *,
        batch_size: int,
        poll_seconds: float,
        lookups: Mapping[str, SentLookup] | None = None,
        concurrency: int = 16,
    ) -> None:
        self._delivery = delivery
        self._senders = senders
        self._lookups = dict(lookups or {})
        self._notifier = notifier
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._slots = asyncio.Semaphore(concurrency)

    async def run_once(self) -> int:
        """Send everything due now; returns how many items were taken."""
        items = await self._delivery.due(self._batch_size)
        results = await asyncio.gather(*(self._send(item) for item in items), return_exceptions=True)
        for item, result in zip(items, results, strict=True):
            if isinstance(result, Exception):
                log.error("outbound.item_failed", outbox_id=item.id, error=type(result).__name__)
        return len(items)

    async def recover(self, limit: int = 1000) -> int:
        """Take at once every send left unfinished whose provider can be asked; returns how many."""
        items = [item for item in await self._delivery.interrupted(limit) if item.channel in self._lookups]
        results = await asyncio.gather(*(self._send(item, interrupted=True) for item in items), return_exceptions=True)
        for item, result in zip(items, results, strict=True):
            if isinstance(result, Exception):
                log.error("outbound.item_failed", outbox_id=item.id, error=type(result).__name__)
        if items:
            log.info("outbound.recovered", items=len(items))
        return len(items)

    async def run(self) -> None:
        """Until cancelled: send what is due, then wait for a wake-up or the poll interval."""
        try:
            await self.recover()
        except Exception as exc:  # noqa: BLE001 - the worker must start even if recovery fails
            log.error("outbound.recover_failed", error=type(exc).__name__)
        wake = asyncio.Event()
        subscription = self._notifier.subscribe()

        async def listen() -> None:
            async for event in subscription:
                if isinstance(event, OutboxReady):
                    wake.set()

        listener = asyncio.create_task(listen(), name="outbound-listener")
        try:
            while True:
                wake.clear()
                try:
                    taken = await self.run_once()
                except Exception as exc:  # noqa: BLE001 - the worker must outlive a bad round
                    log.error("outbound.round_failed", error=type(exc).__name__)
                    taken = 0
                if taken >= self._batch_size:
                    continue
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_seconds):
                        await wake.wait()
        finally:
            listener.cancel()
            subscription.close()

    async def _send(self, item: OutboxItem, *, interrupted: bool = False) -> None:
        async with self._slots:
            job = await self._delivery.start(item.id, interrupted=interrupted)
            if job is None:
                return
            sender = self._senders.get(job.item.channel)
            if sender is None:
                await self._delivery.failed(job.item, "channel_disabled")
                return
            if job.resumed and await self._settled_with_provider(job):
                return
            try:
                provider_id = await sender.send(job.address, job.body, job.item.id)
            except TransientProviderError as exc:
                log.warning("outbound.retry", outbox_id=job.item.id, code=exc.code, attempts=job.item.attempts)
                await self._delivery.retry_later(job.item, exc.code)
            except UnconfirmedSendError:
                log.warning("outbound.unconfirmed", outbox_id=job.item.id, attempts=job.item.attempts)
                await self._delivery.unconfirmed(job.item)
            except PermanentProviderError as exc:
                log.warning("outbound.failed", outbox_id=job.item.id, code=exc.code)
                await self._delivery.failed(job.item, exc.code)
            except Exception as exc:  # noqa: BLE001 - a sender bug must not lose the reply
                log.error("outbound.sender_error", outbox_id=job.item.id, error=type(exc).__name__)
                await self._delivery.retry_later(job.item, "internal")
            else:
                log.info("outbound.sent", outbox_id=job.item.id, channel=job.item.channel)
                await self._delivery.accepted(job.item, provider_id)

    async def _settled_with_provider(self, job: Job) -> bool:
        """For a send that may have reached the provider: True if asking it settled the item (no send now)."""
        lookup = self._lookups.get(job.item.channel)
        if lookup is None or job.written_at is None:
            return False  # no way to ask: the unconfirmed wait has passed, so it is sent again
        try:
            provider_id = await lookup.find_sent(job.address, job.body, job.written_at)
        except ProviderError as exc:
            # The provider cannot say: sending now could send twice. Ask again after the unconfirmed wait.
            log.warning("outbound.lookup_failed", outbox_id=job.item.id, code=exc.code)
            await self._delivery.unconfirmed(job.item)
            return True
        if provider_id is None:
            log.info("outbound.not_at_provider", outbox_id=job.item.id)
            return False
        log.info("outbound.found_at_provider", outbox_id=job.item.id)
        await self._delivery.accepted(job.item, provider_id)
        return True
