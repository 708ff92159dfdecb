"""The event loop the server runs on: uvloop when it is installed (the ``fast`` extra), else asyncio's own."""

from __future__ import annotations

import asyncio
import importlib.util
import sys


def loop_name() -> str:
    """``uvloop`` or ``asyncio``: which loop ``new_event_loop`` makes here."""
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


# How long the event loop's thread may hold the GIL while another thread waits for it (Python's default is
# 5 ms). The SQLite writer's thread runs each group's BEGIN and COMMIT; under load, every hand-off to it
# would otherwise wait out the whole interval, twice per group commit.
SWITCH_INTERVAL_SECONDS = 0.0005


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new event loop of the kind ``loop_name`` names (and a short GIL switch interval for its threads)."""
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    if loop_name() == "uvloop":
        import uvloop  # noqa: PLC0415 - optional: imported only where it is installed

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        return loop
    return asyncio.new_event_loop()
