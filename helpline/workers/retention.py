"""The purge worker: applies the retention policy on a timer (``helpline purge`` runs the same on demand).

Every ``interval`` it runs a whole purge; in between, when closed conversations keep their address for a
grace period, it deletes addresses whose grace has ended every ``sweep_seconds``, so an address is never
kept much past ``vault_grace`` even with a long purge interval.
"""

from __future__ import annotations

import asyncio

from helpline.core.retention import PurgeReport, Retention
from helpline.log import get_logger

log = get_logger(__name__)


class RetentionWorker:
    """Runs ``Retention.purge`` every ``interval_seconds`` and the address sweep between purges."""

    def __init__(self, retention: Retention, *, interval_seconds: float, sweep_seconds: float = 60.0) -> None:
        self._retention = retention
        self._interval = interval_seconds
        self._sweep = min(sweep_seconds, interval_seconds)

    async def run_once(self) -> PurgeReport:
        """One whole purge, now."""
        report = await self._retention.purge()
        if report.anything:
            log.info(
                "retention.purged",
                addresses=report.addresses,
                conversations=report.conversations,
                records=report.records,
                inbound_keys=report.inbound_keys,
                blocks=report.blocks,
            )
        return report

    async def run(self) -> None:
        """Until cancelled: purge at once and every interval; sweep addresses in between."""
        sweeps_per_purge = max(1, round(self._interval / self._sweep))
        tick = 0
        while True:
            try:
                if tick % sweeps_per_purge == 0:
                    await self.run_once()
                elif self._retention.policy.vault_grace.total_seconds() > 0:
                    await self._retention.expire_addresses()
            except Exception as exc:  # noqa: BLE001 - the worker must outlive a bad round
                log.error("retention.round_failed", error=type(exc).__name__)
            tick += 1
            await asyncio.sleep(self._sweep)
