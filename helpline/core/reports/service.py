"""Who may read reports, and reading one: the console's Reports page, the CLI and the floor's figures for today.

Supervisors and admins read reports; volunteers cannot. Supervisors see each person's hours and
conversations; admins, who manage the service rather than the people on shift, see the totals only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from helpline.clock import Clock
from helpline.core.models import User
from helpline.core.ports import Store, Tx
from helpline.core.reports.facts import ReportFacts
from helpline.core.reports.figures import Report, Vocabulary, compute, first_answers, service_of
from helpline.core.reports.period import Period, today
from helpline.errors import Forbidden


def may_read_reports(user: User) -> bool:
    """A supervisor or an admin."""
    return user.is_supervisor or user.is_admin


def sees_people(user: User) -> bool:
    """Per-person figures are for supervisors only (an account holding both roles sees them as a supervisor)."""
    return user.is_supervisor


@dataclass(frozen=True)
class Today:
    """The floor's figures for the helpline's current day."""

    answered: int
    waiting: int
    longest_wait_seconds: int
    left_before_answer: int
    # How long the longest-waiting conversation has waited so far (it grows while it waits).
    waiting_longest_seconds: int


class Reports:
    def __init__(
        self, store: Store, clock: Clock, vocabulary: Vocabulary, *, timezone: str, longest_span: timedelta
    ) -> None:
        self._store = store
        self._clock = clock
        self._vocabulary = vocabulary
        self.timezone = timezone
        # The longest a console session lasts: no one is counted available for longer at a stretch.
        self._longest_span = longest_span

    def period(self, first: str | None, last: str | None) -> Period:
        """A period from two ISO dates, in the helpline's time zone."""
        return Period.parse(first, last, self.timezone)

    async def for_user(self, user: User, period: Period) -> Report:
        if not may_read_reports(user):
            raise Forbidden("Reports are for supervisors and admins.")
        return await self._report(period, people=sees_people(user))

    async def for_operator(self, period: Period) -> Report:
        """The report the ``helpline report`` command prints: totals only, like an admin's."""
        return await self._report(period, people=False)

    async def _report(self, period: Period, *, people: bool) -> Report:
        now = self._clock.now()
        facts = await self._store.read(lambda tx: _read(tx, period))
        return compute(facts, period, self._vocabulary, now, people=people, longest_span=self._longest_span)

    async def today(self, user: User) -> Today:
        """Answered and left before an answer among today's contacts; waiting now; the longest wait today."""
        if not user.is_supervisor:
            raise Forbidden("Only supervisors can see the floor.")
        now = self._clock.now()
        period = today(now, self.timezone)

        async def work(tx: Tx) -> tuple[ReportFacts, int, datetime | None]:
            waiting, oldest = await tx.conversations.waiting_stats()
            return await _read(tx, period, everything=False), waiting, oldest

        facts, waiting, oldest = await self._store.read(work)
        answered_at = first_answers(facts.answers)
        counted = [service_of(c, answered_at.get(c.id)) for c in facts.conversations]
        waits = [
            (answered_at[c.id] - c.created_at).total_seconds()
            for c, kind in zip(facts.conversations, counted, strict=True)
            if kind == "answered"
        ]
        waiting_longest = int((now - oldest).total_seconds()) if oldest is not None else 0
        return Today(
            answered=counted.count("answered"),
            waiting=waiting,
            longest_wait_seconds=max(int(max(waits, default=0)), waiting_longest),
            left_before_answer=counted.count("left_before_answer"),
            waiting_longest_seconds=waiting_longest,
        )


async def _read(tx: Tx, period: Period, *, everything: bool = True) -> ReportFacts:
    start, end = period.start, period.end
    reports = tx.reports
    return ReportFacts(
        conversations=await reports.conversations(start, end),
        answers=await reports.answers(start, end),
        escalations=await reports.escalations(start, end) if everything else [],
        disclosures=await reports.disclosures(start, end) if everything else [],
        availability=await reports.availability(start, end) if everything else [],
    )
