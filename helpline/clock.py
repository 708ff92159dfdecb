"""Time, passed in: production uses SystemClock, tests advance a fake one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current time, always timezone-aware UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def to_text(moment: datetime) -> str:
    """Store times as fixed-width UTC text, so they sort as strings do: ``2026-11-21T14:05:09.000123Z``."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def from_text(text: str) -> datetime:
    """Read a time written by `to_text`."""
    return datetime.fromisoformat(text).astimezone(UTC)
