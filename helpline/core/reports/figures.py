"""The figures of a report, worked out from the content-free rows of one period.

How each conversation's service is counted, in this order (so the four add up to the total):

- **answered**: a staff member replied, and the contact had not left before that first reply;
- **left before an answer**: the contact left (a web chat ended, quick exit or timed out) with no reply yet;
- **closed unanswered**: closed with no reply (e.g. a silent or test contact);
- **waiting**: still open with no reply when the report was made.

Durations are whole seconds. The median of an even count is the mean of the middle two; the 90th percentile
is the nearest-rank one (the smallest value with at least 90% of the values at or below it).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from helpline.core.reports.facts import AnswerFacts, AvailabilitySpan, ConversationFacts, ReportFacts
from helpline.core.reports.period import Period

CHANNELS = ("sms", "webchat", "email")
LEVELS = ("concern", "significant_harm", "immediate_danger")
DECISIONS = ("advice_given", "referred", "emergency_services", "no_further_action")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = tuple(f"{h:02d}" for h in range(24))
# Waits for a first answer, in bands: (key, upper bound in seconds, not included).
WAIT_BANDS = (
    ("under_1_min", 60),
    ("1_to_5_min", 300),
    ("5_to_15_min", 900),
    ("15_to_60_min", 3600),
    ("60_min_and_over", None),
)
NOT_RECORDED = "not_recorded"
OPEN = "open"
UNDECIDED = "undecided"


@dataclass(frozen=True)
class Vocabulary:
    """The codes every breakdown lists, even at zero (codes found in the rows beyond these are added)."""

    outcomes: Sequence[str]
    contact_types: Sequence[str]
    missing_types: Sequence[str]
    categories: Sequence[str]


@dataclass(frozen=True)
class Durations:
    """Seconds: the median, the 90th percentile and the slowest; None when there was nothing to measure."""

    median: int | None
    p90: int | None
    slowest: int | None

    @classmethod
    def of(cls, seconds: Iterable[float]) -> Durations:
        values = sorted(seconds)
        if not values:
            return cls(None, None, None)
        middle = len(values) // 2
        median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
        p90 = values[max(0, math.ceil(0.9 * len(values)) - 1)]
        return cls(_whole(median), _whole(p90), _whole(values[-1]))


@dataclass(frozen=True)
class Person:
    username: str
    hours_available: float
    conversations_handled: int


@dataclass(frozen=True)
class Report:
    period: Period
    made_at: datetime
    # Contacts.
    total: int
    by_channel: dict[str, int]
    new: int
    returning: int
    by_contact_type: dict[str, int]
    by_missing_type: dict[str, int]
    by_outcome: dict[str, int]
    # Service.
    answered: int
    left_before_answer: int
    closed_unanswered: int
    waiting: int
    first_answer: Durations
    first_answer_waits: dict[str, int]
    handling: Durations
    by_day: dict[str, int]
    by_hour: dict[str, int]
    by_weekday: dict[str, int]
    out_of_hours: int
    # Safeguarding.
    escalations: int
    by_category: dict[str, int]
    by_level: dict[str, int]
    by_decision: dict[str, int]
    acknowledgement: Durations
    unacknowledged: int
    disclosures: dict[str, int]
    # Volunteers: ``people`` is None when the reader may see totals only.
    hours_available: float
    conversations_handled: int
    people: list[Person] | None


def first_answers(answers: Iterable[AnswerFacts]) -> dict[str, datetime]:
    """Each conversation's first answer: the earliest first reply of anyone in it."""
    first: dict[str, datetime] = {}
    for answer in answers:
        known = first.get(answer.conversation_id)
        if known is None or answer.first_reply_at < known:
            first[answer.conversation_id] = answer.first_reply_at
    return first


def service_of(conversation: ConversationFacts, answered_at: datetime | None) -> str:
    """Which of answered, left_before_answer, closed_unanswered or waiting a conversation counts as."""
    left = conversation.contact_left_at
    if answered_at is not None and (left is None or left >= answered_at):
        return "answered"
    if left is not None:
        return "left_before_answer"
    return "closed_unanswered" if conversation.status == "closed" else "waiting"


def compute(
    facts: ReportFacts,
    period: Period,
    vocabulary: Vocabulary,
    now: datetime,
    *,
    people: bool,
    longest_span: timedelta | None = None,
) -> Report:
    """Every figure of the report; ``people`` adds the per-person breakdown of volunteers.

    An availability span counts for at most ``longest_span`` (the longest a console session lasts): a span left
    open by a session that simply expired would otherwise run on until the person's next sign-in.
    """
    available = [_capped(s, longest_span) for s in facts.availability]
    conversations = facts.conversations
    answered_at = first_answers(facts.answers)
    service = Counter(service_of(c, answered_at.get(c.id)) for c in conversations)
    answered = [c for c in conversations if service_of(c, answered_at.get(c.id)) == "answered"]
    waits = [(answered_at[c.id] - c.created_at).total_seconds() for c in answered]
    local = [period.local(c.created_at) for c in conversations]
    escalations = facts.escalations
    acknowledged = [e for e in escalations if e.acknowledged_at is not None]
    disclosure_states = Counter(d.state for d in facts.disclosures)
    return Report(
        period=period,
        made_at=now,
        total=len(conversations),
        by_channel=_count(CHANNELS, (c.channel for c in conversations)),
        new=sum(1 for c in conversations if not c.returning),
        returning=sum(1 for c in conversations if c.returning),
        by_contact_type=_count(
            (*vocabulary.contact_types, NOT_RECORDED), (c.contact_type or NOT_RECORDED for c in conversations)
        ),
        by_missing_type=_count(
            (*vocabulary.missing_types, NOT_RECORDED), (c.missing_type or NOT_RECORDED for c in conversations)
        ),
        by_outcome=_count((*vocabulary.outcomes, OPEN), (c.outcome or OPEN for c in conversations)),
        answered=service["answered"],
        left_before_answer=service["left_before_answer"],
        closed_unanswered=service["closed_unanswered"],
        waiting=service["waiting"],
        first_answer=Durations.of(waits),
        first_answer_waits=_count([key for key, _ in WAIT_BANDS], (_band(w) for w in waits)),
        handling=Durations.of(
            (c.closed_at - answered_at[c.id]).total_seconds() for c in answered if c.closed_at is not None
        ),
        by_day=_count([d.isoformat() for d in period.days()], (t.date().isoformat() for t in local)),
        by_hour=_count(HOURS, (f"{t.hour:02d}" for t in local)),
        by_weekday=_count(WEEKDAYS, (WEEKDAYS[t.weekday()] for t in local)),
        out_of_hours=sum(1 for c in conversations if c.out_of_hours),
        escalations=len(escalations),
        by_category=_count(vocabulary.categories, (e.category for e in escalations)),
        by_level=_count(LEVELS, (e.level for e in escalations)),
        by_decision=_count((*DECISIONS, UNDECIDED), (e.decision or UNDECIDED for e in escalations)),
        acknowledgement=Durations.of(
            (e.acknowledged_at - e.raised_at).total_seconds() for e in acknowledged if e.acknowledged_at
        ),
        unacknowledged=len(escalations) - len(acknowledged),
        disclosures={
            "requested": len(facts.disclosures),
            "approved": disclosure_states["approved"] + disclosure_states["shown"],
            "refused": disclosure_states["refused"],
            "pending": disclosure_states["requested"],
        },
        hours_available=_hours(_available(available, period, now)),
        conversations_handled=len(answered_at),
        people=_people(facts.answers, available, period, now) if people else None,
    )


def _count(keys: Iterable[str], values: Iterable[str]) -> dict[str, int]:
    """Counts of ``values``, listing every key (zero if unseen) in order, then any other value seen."""
    counted = {key: 0 for key in keys}
    for value in values:
        counted[value] = counted.get(value, 0) + 1
    return counted


def _band(seconds: float) -> str:
    for key, limit in WAIT_BANDS:
        if limit is None or seconds < limit:
            return key
    raise AssertionError("the last band has no limit")


def _capped(span: AvailabilitySpan, longest: timedelta | None) -> AvailabilitySpan:
    """The span, ended at most ``longest`` after it started."""
    if longest is None:
        return span
    limit = span.started_at + longest
    if span.ended_at is not None and span.ended_at <= limit:
        return span
    return AvailabilitySpan(span.user_id, span.username, span.started_at, limit)


def _available(spans: Iterable[AvailabilitySpan], period: Period, now: datetime) -> timedelta:
    """Time available within the period (an open span counts until now)."""
    total = timedelta(0)
    end = min(period.end, now)
    for span in spans:
        overlap = min(span.ended_at or now, end) - max(span.started_at, period.start)
        if overlap > timedelta(0):
            total += overlap
    return total


def _people(
    answers: Sequence[AnswerFacts], spans: Sequence[AvailabilitySpan], period: Period, now: datetime
) -> list[Person]:
    handled = Counter(a.username for a in answers)
    names = sorted({*handled, *(s.username for s in spans)})
    return [
        Person(name, _hours(_available([s for s in spans if s.username == name], period, now)), handled[name])
        for name in names
    ]


def _hours(span: timedelta) -> float:
    return round(span.total_seconds() / 3600, 1)


def _whole(seconds: float) -> int:
    """Whole seconds, halves rounded up."""
    return math.floor(seconds + 0.5)
