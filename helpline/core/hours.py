"""Opening hours: when volunteers answer, and the reply a contact gets outside them.

Hours are weekly ranges in the helpline's time zone, e.g. ``mon = ["09:00-13:00", "14:00-21:00"]``; a range
may pass midnight (``"22:00-02:00"``). The defaults come from config; an admin may replace them in the
console, which stores them in ``runtime_settings`` and takes effect at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.models import User
from helpline.core.ports import Store, Tx
from helpline.errors import Forbidden, InvalidInput

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$")
SETTING_KEY = "opening_hours"


@dataclass(frozen=True)
class OpeningHours:
    timezone: str
    days: Mapping[str, tuple[str, ...]]
    closed_message: str
    # What a web chat contact reads while closed (they cannot leave a message); empty: the configured default.
    chat_closed_message: str = ""

    @classmethod
    def build(
        cls, timezone: str, days: Mapping[str, Sequence[str]], closed_message: str, chat_closed_message: str = ""
    ) -> OpeningHours:
        """Check and normalise; a clear error names the bad day or range."""
        unknown = set(days) - set(DAYS)
        if unknown:
            raise InvalidInput(f"Unknown day '{sorted(unknown)[0]}': use mon, tue, wed, thu, fri, sat, sun.")
        for day, ranges in days.items():
            for text in ranges:
                if not isinstance(text, str) or not _RANGE.match(text) or text[:5] == text[6:]:
                    raise InvalidInput(f"'{text}' on {day} is not a range like 09:00-17:30.")
        if len(closed_message) > 1000 or len(chat_closed_message) > 1000:
            raise InvalidInput("A closed message can be at most 1000 characters.")
        return cls(timezone, {d: tuple(days.get(d, ())) for d in DAYS}, closed_message, chat_closed_message)

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.timezone))
        now = local.time()
        today = DAYS[local.weekday()]
        yesterday = DAYS[(local.weekday() - 1) % 7]
        for text in self.days[today]:
            start, end = _parse(text)
            if (start <= now < end) if start < end else now >= start:
                return True
        # A range that passes midnight is still open in the small hours of the next day.
        return any(_parse(t)[0] > _parse(t)[1] and now < _parse(t)[1] for t in self.days[yesterday])

    def next_opening(self, moment: datetime) -> datetime | None:
        """When the line opens next after ``moment`` (in the helpline's time zone), or None if it never does."""
        zone = ZoneInfo(self.timezone)
        local = moment.astimezone(zone)
        found: list[datetime] = []
        for ahead in range(8):
            day = local.date() + timedelta(days=ahead)
            for text in self.days[DAYS[day.weekday()]]:
                start = datetime.combine(day, _parse(text)[0], zone)
                if start > local:
                    found.append(start)
            if found:
                return min(found)
        return None

    def closed_text(self, moment: datetime, fallback: str) -> str:
        """The web chat's closed message an admin set (``fallback`` if none), and when the line opens again."""
        text = self.chat_closed_message.strip() or fallback
        opening = self.next_opening(moment)
        if opening is not None:
            text += f" We open again on {opening:%A} at {opening:%H:%M}."
        return text

    def to_json(self) -> str:
        days = {d: list(r) for d, r in self.days.items()}
        messages = {"closed_message": self.closed_message, "chat_closed_message": self.chat_closed_message}
        return json.dumps({"days": days, **messages})

    def with_json(self, text: str) -> OpeningHours:
        data = json.loads(text)
        chat = data.get("chat_closed_message", "")
        return OpeningHours.build(self.timezone, data["days"], data["closed_message"], chat)


def _parse(text: str) -> tuple[time, time]:
    start, end = text.split("-")
    end_time = time(23, 59, 59, 999999) if end == "24:00" else time.fromisoformat(end)
    return time.fromisoformat(start), end_time


class HoursBook:
    """The opening hours in force: config's, until an admin changes them (kept in ``runtime_settings``)."""

    def __init__(self, store: Store, clock: Clock, defaults: OpeningHours) -> None:
        self._store = store
        self._clock = clock
        self.current = defaults

    async def load(self) -> None:
        """Take an admin's saved hours over the configured ones, at start."""
        saved = await self._store.read(lambda tx: tx.runtime_settings.get(SETTING_KEY))
        if saved is not None:
            self.current = self.current.with_json(saved)

    async def save(
        self, user: User, days: Mapping[str, Sequence[str]], closed_message: str, chat_closed_message: str = ""
    ) -> None:
        if not user.is_admin:
            raise Forbidden("Only admins can change the opening hours.")
        hours = OpeningHours.build(self.current.timezone, days, closed_message, chat_closed_message)
        now = self._clock.now()

        async def work(tx: Tx) -> None:
            await tx.runtime_settings.put(SETTING_KEY, hours.to_json(), now)
            await tx.audit.append(AuditEntry(now, user.id, Action.HOURS_CHANGED, None))

        await self._store.write(work)
        self.current = hours
