"""The report's arithmetic on its own: medians and percentiles, local days across a clock change, partitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpline.core.reports.facts import AnswerFacts, AvailabilitySpan, ConversationFacts, ReportFacts
from helpline.core.reports.figures import Durations, Vocabulary, compute
from helpline.core.reports.period import Period
from helpline.errors import InvalidInput

VOCABULARY = Vocabulary(outcomes=("advice",), contact_types=(), missing_types=(), categories=("other",))


def _conversation(ident: str, at: datetime, **changes: object) -> ConversationFacts:
    values: dict[str, object] = {
        "id": ident,
        "channel": "sms",
        "status": "waiting",
        "created_at": at,
        "closed_at": None,
        "outcome": None,
        "contact_type": None,
        "missing_type": None,
        "returning": False,
        "out_of_hours": False,
        "contact_left_at": None,
    }
    values.update(changes)
    return ConversationFacts(**values)  # type: ignore[arg-type]  # built from a dict of the right fields


def test_durations() -> None:
    """The median of an even count is the mean of the middle two, halves rounded up; p90 is nearest-rank."""
    assert Durations.of([]) == Durations(None, None, None)
    assert Durations.of([7.4]) == Durations(7, 7, 7)
    assert Durations.of([1, 2]) == Durations(2, 2, 2)
    assert Durations.of(range(1, 11)) == Durations(6, 9, 10)
    assert Durations.of([30, 10, 20]) == Durations(20, 30, 30)


def test_period_follows_the_clock_change() -> None:
    """The day the clocks go forward in London is 23 hours long, and an hour is counted in local time."""
    period = Period.parse("2026-03-29", "2026-03-29", "Europe/London")
    assert period.start == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)
    facts = ReportFacts([_conversation("a", datetime(2026, 3, 29, 12, 30, tzinfo=UTC))], [], [], [], [])
    report = compute(facts, period, VOCABULARY, period.end, people=False)
    assert report.by_hour["13"] == 1
    assert report.by_weekday["sun"] == 1


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (None, "2026-03-01", "Give the 'from' date"),
        ("2026-03-01", "03/04/2026", "'to' date must be a date"),
        ("2026-3-1", "2026-03-01", "'from' date must be a date"),
        ("2026-03-02", "2026-03-01", "before the 'from' date"),
        ("2020-01-01", "2026-01-01", "at most"),
    ],
)
def test_bad_periods(first: str | None, last: str, message: str) -> None:
    """Each kind of bad period is refused with a message that says what is wrong."""
    with pytest.raises(InvalidInput, match=message):
        Period.parse(first, last, "Europe/London")


def test_service_counts_add_up_to_the_total() -> None:
    """Answered, left before an answer, closed unanswered and waiting partition the conversations."""
    day = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    period = Period.parse("2026-05-04", "2026-05-04", "UTC")
    later = day.replace(hour=10)
    conversations = [
        _conversation("answered", day, status="closed", closed_at=later, outcome="advice"),
        _conversation("left-after", day, contact_left_at=later),
        _conversation("left-before", day, contact_left_at=day),
        _conversation("closed", day, status="closed", closed_at=later, outcome="advice"),
        _conversation("waiting", day),
    ]
    answers = [
        AnswerFacts("answered", "u1", "vol1", day.replace(minute=5)),
        AnswerFacts("answered", "u2", "vol2", day.replace(minute=1)),
        AnswerFacts("left-after", "u1", "vol1", day.replace(minute=30)),
    ]
    report = compute(ReportFacts(conversations, answers, [], [], []), period, VOCABULARY, later, people=True)
    assert (report.answered, report.left_before_answer, report.closed_unanswered, report.waiting) == (2, 1, 1, 1)
    # The first answer is the earliest reply of anyone; each person counts the conversations they replied in.
    assert report.first_answer == Durations(930, 1800, 1800)
    assert [(p.username, p.conversations_handled) for p in report.people or []] == [("vol1", 2), ("vol2", 1)]


def test_availability_counts_at_most_one_session_at_a_stretch() -> None:
    """A span longer than a session can last, or still open, counts only that long; the period cuts it too."""
    period = Period.parse("2026-05-04", "2026-05-05", "UTC")
    start = datetime(2026, 5, 4, 20, 0, tzinfo=UTC)
    spans = [
        AvailabilitySpan("u1", "vol1", start, start + timedelta(hours=30)),
        AvailabilitySpan("u2", "vol2", start, None),
        AvailabilitySpan("u3", "vol3", start - timedelta(hours=4), start - timedelta(hours=1)),  # 3 h in the period
    ]
    now = start + timedelta(hours=40)
    facts = ReportFacts([], [], [], [], spans)
    report = compute(facts, period, VOCABULARY, now, people=True, longest_span=timedelta(hours=12))
    assert [(p.username, p.hours_available) for p in report.people or []] == [
        ("vol1", 12.0),
        ("vol2", 12.0),
        ("vol3", 3.0),
    ]
    assert report.hours_available == 27.0
