"""A rough wait for a contact at a given place in the queue.

The pace of the queue is the time between claims: if volunteers have taken a conversation every four
minutes lately, the third in line waits about twelve. The estimate uses the last ``sample`` claims seen in
the past two hours, and ``minutes_per_place`` from config until there are at least three of them. It
is shown in words that promise nothing precise ("about 10 minutes", "more than an hour").
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from helpline.clock import Clock

_RECENT = timedelta(hours=2)


class WaitEstimate:
    """Learns the queue's pace from claims and turns a place in the queue into words."""

    def __init__(self, clock: Clock, *, minutes_per_place: float, sample: int = 10) -> None:
        self._clock = clock
        self._default = minutes_per_place
        self._claims: deque[datetime] = deque(maxlen=sample)

    def claimed(self) -> None:
        """A volunteer took a conversation from the queue just now."""
        self._claims.append(self._clock.now())

    def minutes_per_place(self) -> float:
        now = self._clock.now()
        recent = [moment for moment in self._claims if now - moment <= _RECENT]
        if len(recent) < 3:
            return self._default
        spread = (recent[-1] - recent[0]).total_seconds() / 60
        return min(max(spread / (len(recent) - 1), 0.5), 60.0)

    def minutes(self, position: int) -> float:
        return position * self.minutes_per_place()

    def words(self, position: int) -> str:
        minutes = self.minutes(position)
        if minutes < 5:
            return "less than 5 minutes"
        if minutes > 60:
            return "more than an hour"
        return f"about {int(5 * round(minutes / 5))} minutes"
