"""Browser fixtures for the console tests: Debian's Chromium driven by Playwright, and a page watcher.

Test modules load these with ``pytest_plugins = ("tests.browser",)`` and import names from here only for type
checking: a module imported before pytest registers it as a plugin could not have its asserts rewritten.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Dialog, Page, expect

from tests.chromium import TIMEOUT_MS, chromium
from tests.conftest import PASSWORD, Harness

EXPECT_DEFAULT_MS = 5_000  # Playwright's own default, put back after each test

# Runs before any page script, outside the page's CSP: it records every CSP violation the page reports.
WATCH_SCRIPT = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


@dataclass
class Watch:
    """What went wrong in a browser context: CSP violations, script errors, dialogs, console errors."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        self.pages.append(page)
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)

    async def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        await dialog.dismiss()

    def _console(self, message: ConsoleMessage) -> None:
        # Chromium logs every API answer with a 4xx status as an error; the pages handle those themselves.
        expected = message.text.startswith("Failed to load resource") and "/api/" in message.location.get("url", "")
        if message.type == "error" and not expected:
            self.console_errors.append(message.text)

    async def violations(self) -> list[str]:
        found: list[str] = []
        for page in self.pages:
            if not page.is_closed():
                found.extend(await page.evaluate("window.__cspViolations || []"))
        return found

    async def assert_clean(self) -> None:
        """No CSP violation, no uncaught script error, no dialog and no unexpected console error."""
        assert await self.violations() == []
        assert self.errors == []
        assert self.dialogs == []
        assert self.console_errors == []


@dataclass
class ConsoleUI:
    """A browser with its watcher, and the server the pages come from."""

    browser: Browser
    harness: Harness
    watch: Watch = field(default_factory=Watch)

    @property
    def base_url(self) -> str:
        return str(self.harness.server.make_url("/")).rstrip("/")

    async def context(self, **options: Any) -> BrowserContext:
        context = await self.browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        await context.add_init_script(WATCH_SCRIPT)
        context.on("page", self.watch.attach)
        return context

    async def page(self, **options: Any) -> Page:
        """A new page in its own context (its own cookies)."""
        return await (await self.context(**options)).new_page()

    async def sign_in(self, username: str, *, available: bool = True, page: Page | None = None) -> Page:
        """Sign in through the login page; with ``available``, set the availability switch too."""
        page = page or await self.page()
        await page.goto(self.base_url + "/login")
        await page.get_by_label("Username").fill(username)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(self.base_url + "/console")
        if available:
            await page.get_by_role("button", name="Available").click()
            await expect(page.get_by_role("button", name="Available")).to_have_attribute("aria-pressed", "true")
        return page

    @staticmethod
    async def wait_live(page: Page) -> None:
        """Wait until the page's WebSocket is subscribed and the page has caught up from the API."""
        await expect(page.locator("html")).to_have_attribute("data-live", "live")

    @staticmethod
    async def mark(page: Page) -> None:
        """Leave a marker in the page that a navigation or a reload would wipe out."""
        await page.evaluate("window.__sameDocument = true")

    @staticmethod
    async def assert_same_document(page: Page) -> None:
        assert await page.evaluate("window.__sameDocument === true")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def ui(browser: Browser, harness: Harness) -> AsyncIterator[ConsoleUI]:
    # A loaded CI machine can take more than Playwright's 5 s default to run a page's round trips.
    expect.set_options(timeout=TIMEOUT_MS)
    running = ConsoleUI(browser, harness)
    try:
        yield running
        await running.watch.assert_clean()
    finally:
        expect.set_options(timeout=EXPECT_DEFAULT_MS)
