"""The provider-deletion worker: asks each channel's provider to delete the messages it is done with.

``run_once`` queues what has become deletable (inbound messages, outbound ones with a final delivery
status), then works through what is due; ``run`` does that every ``poll_seconds``. See
``core/provider_deletion.py`` for the retry and give-up rules.

Deleting can wait; answering cannot. While ``busy()`` says the server is taking in messages (webhooks
being answered, messages waiting to be routed), the worker pauses before each deletion, so a backlog of
deletions never slows a surge of texts: it is worked off in the quieter moments and after the surge.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from helpline.core.models import ProviderDeletion
from helpline.core.ports import ProviderRecords
from helpline.core.provider_deletion import ProviderDeletions
from helpline.errors import PermanentProviderError, ProviderError
from helpline.log import get_logger

log = get_logger(__name__)
# Deletions in flight at once: enough to keep up with a busy night, few enough to stay inside the API's limits.
CONCURRENCY = 8
# How often a paused deletion looks again whether the server is still busy.
BUSY_PAUSE_SECONDS = 0.05


class ProviderDeletionWorker:
    """Drives ``ProviderDeletions`` for every due message."""

    def __init__(
        self,
        deletions: ProviderDeletions,
        providers: Mapping[str, ProviderRecords],
        *,
        poll_seconds: float,
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self._deletions = deletions
        self._providers = providers
        self._poll_seconds = poll_seconds
        self._busy = busy

    async def run_once(self) -> int:
        """Queue what became deletable and try everything due; returns how many deletions were tried."""
        await self._deletions.collect()
        due = await self._deletions.due()
        slots = asyncio.Semaphore(CONCURRENCY)

        async def delete(item: ProviderDeletion) -> None:
            async with slots:
                while self._busy():  # noqa: ASYNC110 - busy is a count that changes all the time, not one event
                    await asyncio.sleep(BUSY_PAUSE_SECONDS)
                try:
                    await self._delete(item)
                except Exception as exc:  # noqa: BLE001 - one bad item must not stop the others
                    log.error("provider_deletion.item_failed", message_id=item.message_id, error=type(exc).__name__)

        await asyncio.gather(*(delete(item) for item in due))
        return len(due)

    async def run(self) -> None:
        """Until cancelled: a round every ``poll_seconds``."""
        while True:
            try:
                tried = await self.run_once()
            except Exception as exc:  # noqa: BLE001 - the worker must outlive a bad round
                log.error("provider_deletion.round_failed", error=type(exc).__name__)
                tried = 0
            if tried == 0:
                # Nothing was due: wait. With a backlog, go straight on, so records at the provider cannot pile up.
                await asyncio.sleep(self._poll_seconds)

    async def _delete(self, item: ProviderDeletion) -> None:
        provider = self._providers.get(item.channel)
        if provider is None:
            await self._deletions.give_up(item, "channel_disabled")
            return
        job = await self._deletions.open(item)
        if job is None:
            return
        try:
            await provider.delete(job.provider_id, inbound=item.direction == "in")
        except ProviderError as exc:
            permanent = isinstance(exc, PermanentProviderError)
            log.warning("provider_deletion.failed", message_id=item.message_id, code=exc.code, permanent=permanent)
            await self._deletions.failed(item, exc.code, permanent=permanent)
        else:
            log.info("provider_deletion.deleted", message_id=item.message_id, channel=item.channel)
            await self._deletions.deleted(item)
