"""Times in the console follow the helpline's locale and time zone, not the browser's."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from helpline.settings import Settings
from tests.conftest import Harness

if TYPE_CHECKING:
    from tests.browser import ConsoleUI

pytest_plugins = ("tests.browser",)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace("hours", timezone="America/New_York").replace("helpline", locale="en-GB")


async def test_times_are_shown_in_the_helplines_time_zone(harness: Harness, ui: ConsoleUI) -> None:
    """A browser set to Tokyo time shows a message that came at 09:00 UTC as 04:00, New York's time."""
    api = await harness.console("amira")
    await harness.text("+447700900991", "hello")  # 2026-03-02 09:00 UTC: 04:00 in New York
    conversation = (await (await api.post("/api/queue/take")).json())["id"]
    context = await ui.context(timezone_id="Asia/Tokyo", locale="en-US")
    page = await ui.sign_in("amira", page=await context.new_page())
    await page.goto(ui.base_url + f"/console/conversations/{conversation}")
    stamp = page.locator("#transcript-list time").first
    await expect(stamp).to_contain_text("04:00")
    await expect(stamp).to_have_attribute("title", "Monday, 2 March 2026 at 04:00:00")
