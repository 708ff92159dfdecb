"""When to try a failed job again: the one backoff rule of every retry queue.

The outbox (replies), staff notices (the on-call supervisor) and provider deletions (Twilio's copies) each
retry with this rule, configured with their own settings. After a job's n-th failed attempt it waits
``base × 2^(n-1)``, capped at ``maximum``: base, 2×base, 4×base … maximum. The doubling stops growing
after 30 attempts, so a job that keeps failing never overflows the delay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

_MAX_DOUBLINGS = 30


@dataclass(frozen=True)
class RetryRule:
    """Exponential backoff from ``base``, capped at ``maximum``."""

    base: timedelta
    maximum: timedelta

    def delay(self, attempts: int) -> timedelta:
        """How long to wait after ``attempts`` failed attempts (the first retry waits ``base``)."""
        doublings = min(max(attempts - 1, 0), _MAX_DOUBLINGS)
        return min(self.base * (1 << doublings), self.maximum)
