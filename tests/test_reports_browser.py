"""Reports and the floor's figures for today in a real browser: charts beside tables, live updates, no CSP breach."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from helpline.core.models import Inbound
from helpline.settings import Settings
from tests.conftest import FakeClock, Harness
from tests.report_scenario import FIRST_DAY, LAST_DAY, START, play, settings_for

if TYPE_CHECKING:
    from tests.browser import ConsoleUI

pytest_plugins = ("tests.browser",)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings_for(settings)


async def test_reports_page_shows_charts_beside_their_tables(harness: Harness, ui: ConsoleUI) -> None:
    """A supervisor reaches Reports from the navigation, picks the days and sees each chart with its table."""
    await play(harness.helpline, harness.clock)
    page = await ui.sign_in("sup", available=False)
    await page.get_by_role("link", name="Reports").click()
    await page.wait_for_url(ui.base_url + "/console/reports")
    await page.get_by_label("From").fill(FIRST_DAY)
    await page.get_by_label("To (included)").fill(LAST_DAY)
    # Enter submits the form wherever it is: the safeguarding alert for the open escalation may still be
    # sliding in above it and moving the button.
    await page.get_by_label("To (included)").press("Enter")
    await page.wait_for_url(f"{ui.base_url}/console/reports?from={FIRST_DAY}&to={LAST_DAY}")

    by_day = page.get_by_role("figure", name="Conversations by day", exact=True)
    await expect(by_day.locator("svg.chart rect.chart-bar")).to_have_count(2)
    await expect(by_day.get_by_role("table")).to_contain_text("Mon 2 Mar 2026")
    await expect(by_day.get_by_role("row", name="Tue 3 Mar 2026 3")).to_be_visible()
    outcomes = page.get_by_role("figure", name="Outcomes", exact=True)
    await expect(outcomes.get_by_role("row", name="Advice or information given 1")).to_be_visible()
    await expect(page.locator("svg.chart")).to_have_count(12)
    # The charts are pictures only: a screen reader reads the tables beside them.
    assert await page.locator("svg.chart:not([aria-hidden='true'])").count() == 0
    await expect(page.get_by_role("table", name="Each person")).to_contain_text("vol1")

    async with page.expect_download() as download_info:
        await by_day.get_by_role("link", name="Download “Conversations by day” (CSV)").click()
    download = await download_info.value
    assert download.suggested_filename == f"helpline-report-{FIRST_DAY}-to-{LAST_DAY}-service-by-day.csv"


async def test_floor_shows_todays_figures_live(harness: Harness, ui: ConsoleUI) -> None:
    """The floor's figures for today change without a reload when a contact is answered or leaves."""
    await play(harness.helpline, harness.clock)
    helpline = harness.helpline
    page = await ui.sign_in("sup", available=False)
    await page.goto(ui.base_url + "/console/floor")
    await ui.wait_live(page)
    await expect(page.locator("#today-waiting")).to_have_text("2")
    await expect(page.locator("#today-answered")).to_have_text("0")
    await expect(page.locator("#today-longest")).not_to_have_text("…")
    await ui.mark(page)

    vol1 = await helpline.store.read(lambda tx: tx.users.by_name("vol1"))
    assert vol1 is not None
    arrived = await helpline.conversations.receive(Inbound("sms", "+447700900108", "H-1", "Hi"))
    assert arrived.conversation_id is not None
    await expect(page.locator("#today-waiting")).to_have_text("3")
    await helpline.routing.claim(vol1, arrived.conversation_id)
    await helpline.conversations.reply(vol1, arrived.conversation_id, "Hello")
    await expect(page.locator("#today-answered")).to_have_text("1")
    await helpline.conversations.receive(Inbound("webchat", "chat-token-i", "I-1", "Hi"))
    await helpline.conversations.contact_left("webchat", "chat-token-i", "quick_exit")
    await expect(page.locator("#today-left")).to_have_text("1")
    await ui.assert_same_document(page)


async def test_volunteer_sees_no_reports(harness: Harness, ui: ConsoleUI) -> None:
    """A volunteer has no Reports link, and opening the page directly says it is not for them."""
    await harness.console("vol9", role="volunteer")
    page = await ui.sign_in("vol9", available=False)
    await expect(page.get_by_role("link", name="Queue")).to_be_visible()
    await expect(page.get_by_role("link", name="Reports")).to_be_hidden()
    await page.goto(ui.base_url + f"/console/reports?from={FIRST_DAY}&to={LAST_DAY}")
    await expect(page.get_by_role("alert").filter(has_text="Reports are for supervisors")).to_be_visible()
    await expect(page.locator("svg.chart")).to_have_count(0)
    # Chromium logs the page's own 403 status as a console error: that status is what this test expects.
    ui.watch.console_errors.remove("Failed to load resource: the server responded with a status of 403 (Forbidden)")
