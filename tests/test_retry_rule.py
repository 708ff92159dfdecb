"""The one due-job rule, and its backoff, that the outbox, staff notices and provider deletions share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpline.core.retry import DueRule, RetryRule

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


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


def test_a_taken_job_is_held_for_the_lease_and_a_failed_one_waits_the_backoff() -> None:
    """Taking a job moves it on by the lease; after a failure it is due again after the backoff."""
    rule = DueRule(RetryRule(timedelta(seconds=2), timedelta(minutes=1)), lease=timedelta(minutes=15))
    assert rule.held_until(NOW) == NOW + timedelta(minutes=15)
    assert rule.again_at(NOW, 3) == NOW + timedelta(seconds=8)


def test_a_job_is_given_up_after_its_attempts_or_its_time() -> None:
    """A rule gives up after ``max_attempts`` attempts, or once the job was queued ``give_up_after`` ago."""
    retry = RetryRule(timedelta(seconds=2), timedelta(minutes=1))
    by_count = DueRule(retry, lease=timedelta(minutes=1), max_attempts=3)
    assert not by_count.gives_up(2) and by_count.gives_up(3)
    by_age = DueRule(retry, lease=timedelta(minutes=1), give_up_after=timedelta(hours=1))
    assert not by_age.gives_up(50, NOW, NOW - timedelta(minutes=59))
    assert by_age.gives_up(1, NOW, NOW - timedelta(hours=1))
