"""The console shows what the meaning layer read, beside the risk words, as soon as it has read it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from helpline.settings import Settings
from helpline.testing.twilio_api import FakeTwilio
from tests.conftest import FakeClock, Harness
from tests.test_risk_meaning_server import PARAPHRASE, packaged, start

if TYPE_CHECKING:
    from tests.browser import ConsoleUI

pytest_plugins = ("tests.browser",)

TEXTER = "+447700900777"


@pytest.fixture
async def harness(
    settings: Settings, clock: FakeClock, fake_twilio: FakeTwilio, data_dir: Path, port: int
) -> AsyncIterator[Harness]:
    """A server with the meaning layer on (the browser fixtures drive this one)."""
    running = await start(settings, clock, fake_twilio, data_dir, port, packaged())
    yield running
    await running.close()


async def test_similar_in_meaning_appears_beside_the_risk_words_live(harness: Harness, ui: ConsoleUI) -> None:
    """A volunteer reading the conversation sees "similar in meaning to" the prototype, with a strength, once read."""
    await harness.console("amira")
    await harness.text(TEXTER, "I hate my life. " + PARAPHRASE)
    page = await ui.sign_in("amira")
    await page.get_by_role("button", name=re.compile(r"^Claim")).click()
    await page.wait_for_url(re.compile(r"/console/conversations/[^/]+$"))
    risks = page.get_by_role("list", name="Risk words in this message")
    await expect(risks).to_contain_text("Risk words")
    await expect(risks).not_to_contain_text("similar in meaning")

    assert harness.helpline.meaning is not None
    await harness.helpline.meaning.run_once()  # the worker reads the message; its event reaches the page

    meaning = risks.locator(".msg-meaning").filter(has_text="Self harm: similar in meaning to")
    await expect(meaning.locator("q")).to_contain_text("blade")
    await expect(meaning).to_contain_text(re.compile(r"\((?:strong|moderate|weak), [01]\.\d\d\)"))
    await expect(risks.locator("li").filter(has_text="Risk words")).to_have_count(1)  # still beside the words
