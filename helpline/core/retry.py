"""Due jobs: the one mechanism behind every retry queue, and its one backoff rule.

The outbox (replies), staff notices (the on-call supervisor) and provider deletions (Twilio's copies) are each a
table of jobs with a due time (``next_attempt_at``), and each is worked the same way (``DueRule``):

1. a worker reads the jobs that are due;
2. it *takes* one in a single statement that moves its due time on to the end of a lease (``held_until``) —
   only if it is still due, so of two workers, or two instances, only one takes it — and counts the attempt.
   It never holds a transaction across the call to the provider; a worker that dies holding a job leaves it due
   again when the lease ends;
3. done: the job is marked done or removed. Failed: it is due again after ``again_at`` — the backoff — unless
   ``gives_up`` says it has had enough (``max_attempts`` attempts, or queued ``give_up_after`` ago).

The backoff (``RetryRule``): after a job's n-th failed attempt it waits ``base × 2^(n-1)``, capped at
``maximum``: base, 2×base, 4×base … maximum. The doubling stops growing after 30 attempts, so a job that keeps
failing never overflows the delay. Each queue configures both with its own settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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


@dataclass(frozen=True)
class DueRule:
    """How one queue's jobs are taken and tried again (see the module's text)."""

    retry: RetryRule
    # How long a taken job is held before another worker may take it (for the outbox: how long a send whose
    # answer was lost waits for the provider's status callback).
    lease: timedelta
    max_attempts: int | None = None
    give_up_after: timedelta | None = None

    def held_until(self, now: datetime) -> datetime:
        """The due time a job taken now is moved on to."""
        return now + self.lease

    def again_at(self, now: datetime, attempts: int) -> datetime:
        """When a job whose ``attempts``-th attempt failed now is due again."""
        return now + self.retry.delay(attempts)

    def gives_up(self, attempts: int, now: datetime | None = None, queued_at: datetime | None = None) -> bool:
        """True when a job that has had ``attempts`` attempts (queued at ``queued_at``) is tried no more."""
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return True
        return bool(
            self.give_up_after is not None
            and now is not None
            and queued_at is not None
            and now - queued_at >= self.give_up_after
        )
