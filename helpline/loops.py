"""The event loop the server runs on: uvloop when it is installed (the ``fast`` extra), else asyncio's own."""

from __future__ import annotations

import asyncio
import importlib.util


def loop_name() -> str:
    """``uvloop`` or ``asyncio``: which loop ``new_event_loop`` makes here."""
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new event loop of the kind ``loop_name`` names."""
    if loop_name() == "uvloop":
        import uvloop  # noqa: PLC0415 - optional: imported only where it is installed

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        return loop
    return asyncio.new_event_loop()
