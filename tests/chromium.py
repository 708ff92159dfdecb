"""Debian's Chromium for the browser tests, launched headless by Playwright.

Nothing here asserts, so any test module may import it at run time (``tests/browser.py`` is a pytest plugin,
whose asserts are rewritten only if no module imports it first).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000


def installed() -> Path:
    """Debian's Chromium; the test fails if the package is missing."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is needed at /usr/bin/chromium: scripts/test installs it")
    return CHROMIUM


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Chromium, launched for as long as the block runs."""
    executable = installed()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(executable), headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()
