"""What every ``helpline`` subcommand does with its instance: read its settings, and run work on its store."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

from helpline import settings as settings_module
from helpline.app import Helpline, build
from helpline.settings import Settings

T = TypeVar("T")


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings of the instance named by ``--config``, with the environment over them."""
    return settings_module.load(args.config, os.environ)


async def on_store(settings: Settings, work: Callable[[Helpline], Awaitable[T]]) -> T:
    """Build the helpline, open its store, run ``work`` against the built parts, and close the store again."""
    helpline = build(settings)
    await helpline.store.open()
    try:
        return await work(helpline)
    finally:
        await helpline.store.close()


def run_on_store(settings: Settings, work: Callable[[Helpline], Awaitable[T]]) -> T:
    """``on_store`` in an event loop of its own, for a subcommand that does nothing else at the time."""
    return asyncio.run(on_store(settings, work))
