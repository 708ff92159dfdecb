"""A report's period: whole days in the helpline's time zone, from the first to the last, both included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from helpline.errors import InvalidInput

# A report covers at most this many days (three years), so one request cannot ask for an endless table.
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    timezone: str

    @classmethod
    def parse(cls, first: str | None, last: str | None, timezone: str) -> Period:
        """Read two ISO dates (YYYY-MM-DD); a clear error names what is wrong."""
        start, end = _date(first, "from"), _date(last, "to")
        if end < start:
            raise InvalidInput("The 'to' date is before the 'from' date.")
        if (end - start).days + 1 > MAX_DAYS:
            raise InvalidInput(f"A report covers at most {MAX_DAYS} days.")
        return cls(start, end, timezone)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def start(self) -> datetime:
        """The first day's local midnight, in UTC."""
        return datetime.combine(self.first, time(0), self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The local midnight after the last day, in UTC: the period is ``start <= t < end``."""
        return datetime.combine(self.last + timedelta(days=1), time(0), self.zone).astimezone(UTC)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)


def today(now: datetime, timezone: str) -> Period:
    """The local day ``now`` falls in."""
    day = now.astimezone(ZoneInfo(timezone)).date()
    return Period(day, day, timezone)


def _date(text: str | None, name: str) -> date:
    if not text:
        raise InvalidInput(f"Give the '{name}' date as YYYY-MM-DD.")
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"The '{name}' date must be a date like 2026-03-01.") from None
