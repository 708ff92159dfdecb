"""The one backoff rule the outbox, staff notices and provider deletions share."""

from __future__ import annotations

from datetime import timedelta

from helpline.core.retry import RetryRule


def test_delay_doubles_from_the_base_and_stops_at_the_maximum() -> None:
    """After n failed attempts the wait is base × 2^(n-1), never above the maximum."""
    rule = RetryRule(base=timedelta(seconds=2), maximum=timedelta(seconds=60))
    waits = [rule.delay(n).total_seconds() for n in range(1, 8)]
    assert waits == [2, 4, 8, 16, 32, 60, 60]


def test_no_attempt_yet_waits_the_base_and_huge_counts_do_not_overflow() -> None:
    """Zero or negative attempts wait the base; a very large count is simply the maximum."""
    rule = RetryRule(base=timedelta(seconds=1), maximum=timedelta(hours=1))
    assert rule.delay(0) == rule.delay(-3) == timedelta(seconds=1)
    assert rule.delay(10_000) == timedelta(hours=1)
