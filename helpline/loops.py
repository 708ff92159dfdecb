"""How the server process runs: its event loop (uvloop when installed, the ``fast`` extra, else asyncio's own)
and its garbage collector, told once the server has started to leave what start-up built alone."""

from __future__ import annotations

import asyncio
import gc
import importlib.util

from aiohttp import web


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


async def freeze_after_start(app: web.Application) -> None:
    """Keep everything built at start-up (the lexicon's tables, the app, the libraries) out of full collections.

    A full collection walks every object the collector tracks. Left to it, it walks these each time too,
    under load a pause of tens of milliseconds for every message in flight; frozen, they are never walked.
    """
    gc.collect()
    gc.freeze()
