"""The console stream's recent frames, kept so that a console that lost its socket can resume.

Each frame the console stream numbers is kept here with its ``seq`` and its event's stamp (``helpline/bus.py``:
where the event stands in the record of events, the same at every instance sharing PostgreSQL). A console that
reconnects with the stamp of the last event it saw is sent the frames after it, numbered as the stream
numbered them, so it goes on from there with no reload. Only the newest ``size`` frames are kept; older ones,
and any the stream itself missed (its subscription overflowed), are no longer here.
"""

from __future__ import annotations

from collections import deque
from itertools import islice


def stamp_order(stamp: str) -> tuple[int, int] | None:
    """A stamp as two whole numbers, for comparing two stamps of one record; None if it is not one."""
    first, dot, second = stamp.partition(".")
    if not (dot and first.isdigit() and second.isdigit()):
        return None
    return int(first), int(second)


class RecentFrames:
    """The last ``size`` numbered frames, found by their event's stamp."""

    def __init__(self, size: int, origin: str, seq: int) -> None:
        self._size = size
        self._frames: deque[bytes] = deque()
        self._stamps: deque[str] = deque()
        # The seq of the first frame kept, and for each kept stamp the seq of its frame.
        self._first = seq + 1
        self._seq_of: dict[str, int] = {origin: seq} if origin else {}
        self.last_stamp = origin
        self.last_seq = seq

    def add(self, seq: int, stamp: str, frame: bytes) -> None:
        """Keep frame ``seq`` (the next after the last); ``stamp`` empty for an event nothing records."""
        if seq != self.last_seq + 1:
            raise ValueError("frames are kept in order")
        self._frames.append(frame)
        self._stamps.append(stamp)
        self.last_seq = seq
        if stamp:
            self._seq_of[stamp] = seq
            self.last_stamp = stamp
        if len(self._frames) > self._size:
            self._frames.popleft()
            self._seq_of.pop(self._stamps.popleft(), None)
            self._first += 1

    def missed(self) -> None:
        """The stream missed events after its last frame: nothing kept so far can be resumed through them."""
        self._frames.clear()
        self._stamps.clear()
        self._first = self.last_seq + 1
        self._seq_of = {}

    def seq_of(self, stamp: str) -> int | None:
        """The seq of the frame that carried ``stamp``, if the frames after it are all kept."""
        seq = self._seq_of.get(stamp)
        if seq is None or seq < self._first - 1:
            return None
        return seq

    def since(self, seq: int) -> list[bytes] | None:
        """The kept frames after ``seq``, in order; None if some of them are no longer kept."""
        if seq < self._first - 1:
            return None
        return list(islice(self._frames, seq + 1 - self._first, None))
