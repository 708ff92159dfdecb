"""The small-number rule: in downloads, a breakdown's count from 1 to 4 is "<5"; the page and totals stay exact."""

from __future__ import annotations

import copy
import csv
import io
from typing import Any

import pytest

from helpline.core.reports.export import SmallNumbers
from helpline.settings import Settings
from tests.conftest import FakeClock, Harness
from tests.report_reading import ReportPage
from tests.report_scenario import EXPECTED, FIRST_DAY, LAST_DAY, START, play, settings_for

PERIOD = f"from={FIRST_DAY}&to={LAST_DAY}"
BREAKDOWNS = {
    "conversations": ("by_channel", "by_contact_type", "by_missing_type", "by_outcome"),
    "service": ("first_answer_waits", "by_day", "by_hour", "by_weekday"),
    "safeguarding": ("by_category", "by_level", "by_decision"),
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings_for(settings)  # reports.small_number_threshold stays at its default, 5


def hidden(count: int) -> int | str:
    return "<5" if 0 < count < 5 else count


def expected_download() -> dict[str, Any]:
    """The scenario's figures as a download shows them with the default threshold."""
    data = copy.deepcopy(EXPECTED)
    data["small_numbers_below"] = 5
    for section, figures in BREAKDOWNS.items():
        for figure in figures:
            data[section][figure] = {k: hidden(v) for k, v in data[section][figure].items()}
    contacts = data["conversations"]
    contacts["new"], contacts["returning"] = hidden(contacts["new"]), hidden(contacts["returning"])
    disclosures = data["safeguarding"]["disclosures"]
    data["safeguarding"]["disclosures"] = {k: v if k == "requested" else hidden(v) for k, v in disclosures.items()}
    for person in data["volunteers"]["people"]:
        person["conversations_handled"] = hidden(person["conversations_handled"])
    return data


async def test_download_hides_small_counts(harness: Harness) -> None:
    """The JSON download shows breakdown counts of 1 to 4 as "<5", keeps 0 and 5 or more, and keeps totals exact."""
    await play(harness.helpline, harness.clock)
    console = await harness.console()
    await console.login("sup")
    data = await (await console.get(f"/api/reports?{PERIOD}")).json()
    assert data == expected_download()
    assert data["conversations"]["by_channel"] == {"sms": 5, "webchat": "<5", "email": "<5"}
    assert data["conversations"]["total"] == 7
    assert data["service"]["answered"] == 3


async def test_csv_hides_small_counts(harness: Harness) -> None:
    """The CSV download applies the same rule, cell by cell."""
    await play(harness.helpline, harness.clock)
    console = await harness.console()
    await console.login("sup")
    text = await (await console.get(f"/api/reports.csv?{PERIOD}&only=conversations.by_contact_type")).text()
    assert list(csv.reader(io.StringIO(text)))[4:] == [
        ["conversations", "by_contact_type", "missing_person", "<5"],
        ["conversations", "by_contact_type", "family_or_friend", "<5"],
        ["conversations", "by_contact_type", "professional", "0"],
        ["conversations", "by_contact_type", "other", "0"],
        ["conversations", "by_contact_type", "not_recorded", "5"],
    ]


async def test_page_shows_exact_counts_and_says_why_downloads_differ(harness: Harness) -> None:
    """Inside the console the page shows every count exactly, and says downloads hide the small ones."""
    await play(harness.helpline, harness.clock)
    console = await harness.console()
    await console.login("sup")
    html = await (await console.get(f"/console/reports?{PERIOD}")).text()
    assert ReportPage(html).counts("conversations-by-channel-table") == ["5", "1", "1"]
    assert "below 5 is shown as &lt;5" in html


def test_threshold_of_zero_or_one_shows_every_count() -> None:
    """A threshold of 0 or 1 leaves every count as it is; zero is never hidden."""
    for threshold in (0, 1):
        assert [SmallNumbers(threshold)(n) for n in (0, 1, 4, 5)] == [0, 1, 4, 5]
    assert [SmallNumbers(10)(n) for n in (0, 1, 9, 10)] == [0, "<10", "<10", 10]
