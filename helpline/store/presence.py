"""Who has a live console, kept in this instance's memory as heartbeats: one time per user, last seen live.

The shape is a heartbeat row per user (last live time, open sockets), so it can move to a shared table when
several instances serve one helpline; in memory, each instance knows only the consoles connected to it.
"""

from __future__ import annotations

from datetime import datetime


class MemoryPresence:
    """``core.ports.PresenceBook`` in memory."""

    def __init__(self) -> None:
        self._open: dict[str, int] = {}
        self._last: dict[str, datetime] = {}
        self._signed_out: set[str] = set()

    def opened(self, user_id: str, now: datetime) -> None:
        self._open[user_id] = self._open.get(user_id, 0) + 1
        self._last[user_id] = now
        self._signed_out.discard(user_id)

    def beat(self, user_id: str, now: datetime) -> None:
        self._last[user_id] = now

    def closed(self, user_id: str, now: datetime) -> None:
        left = self._open.get(user_id, 0) - 1
        if left > 0:
            self._open[user_id] = left
        else:
            self._open.pop(user_id, None)
        self._last[user_id] = now

    def signed_out(self, user_id: str) -> None:
        self._signed_out.add(user_id)
        self._last.pop(user_id, None)

    def last_live(self, user_id: str, now: datetime) -> datetime | None:
        if user_id in self._signed_out:
            return None
        if self._open.get(user_id, 0) > 0:
            return now
        return self._last.get(user_id)
