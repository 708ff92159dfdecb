"""Reports over two known days: every figure exactly, as JSON, CSV, the page and the command; who may read them."""

from __future__ import annotations

import asyncio
import copy
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from helpline import cli
from helpline.settings import Settings
from tests.conftest import FakeClock, Harness
from tests.report_reading import ReportPage
from tests.report_scenario import EXPECTED, FIRST_DAY, LAST_DAY, START, play, settings_for

PERIOD = f"from={FIRST_DAY}&to={LAST_DAY}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Exact counts everywhere here; tests/test_reports_small_numbers.py keeps the default threshold.
    return settings_for(settings).replace("reports", small_number_threshold=0)


@pytest.fixture
async def played(harness: Harness) -> dict[str, str]:
    return await play(harness.helpline, harness.clock)


async def _json(harness: Harness, username: str) -> dict[str, Any]:
    console = await harness.console()
    assert (await console.login(username)).status == 200
    response = await console.get(f"/api/reports?{PERIOD}")
    assert response.status == 200, await response.text()
    data: dict[str, Any] = await response.json()
    return data


def _totals_only(expected: dict[str, Any]) -> dict[str, Any]:
    admin = copy.deepcopy(expected)
    del admin["volunteers"]["people"]
    return admin


def _rows(data: dict[str, Any]) -> list[list[str]]:
    """The CSV rows a report's JSON form stands for, as the README describes them."""
    rows = [["report", "from", "", data["from"]], ["report", "to", "", data["to"]]]
    rows.append(["report", "timezone", "", data["timezone"]])
    for section in ("conversations", "service", "safeguarding", "volunteers"):
        for figure, value in data[section].items():
            if isinstance(value, dict):
                rows.extend([section, figure, k, "" if v is None else str(v)] for k, v in value.items())
            elif isinstance(value, list):
                for person in value:
                    rows.extend(
                        [section, f"people.{k}", person["username"], str(v)]
                        for k, v in person.items()
                        if k != "username"
                    )
            else:
                rows.append([section, figure, "", str(value)])
    return rows


async def test_supervisor_json_gives_every_figure(harness: Harness, played: dict[str, str]) -> None:
    """A supervisor's JSON report holds every figure of the two days exactly, per person included."""
    assert await _json(harness, "sup") == EXPECTED


async def test_admin_sees_totals_only(harness: Harness, played: dict[str, str]) -> None:
    """An admin's report has the volunteers' totals but no figures per person."""
    assert await _json(harness, "adm") == _totals_only(EXPECTED)


async def test_csv_gives_every_figure(harness: Harness, played: dict[str, str]) -> None:
    """The CSV download has a header and one row per figure, each value exact."""
    console = await harness.console()
    await console.login("sup")
    response = await console.get(f"/api/reports.csv?{PERIOD}")
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert f"helpline-report-{FIRST_DAY}-to-{LAST_DAY}.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows[0] == ["section", "figure", "item", "value"]
    assert rows[1:] == _rows(EXPECTED)


async def test_csv_of_one_chart(harness: Harness, played: dict[str, str]) -> None:
    """A chart's own CSV download holds that chart's figures only."""
    console = await harness.console()
    await console.login("sup")
    response = await console.get(f"/api/reports.csv?{PERIOD}&only=service.by_day")
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows[4:] == [["service", "by_day", "2026-03-02", "4"], ["service", "by_day", "2026-03-03", "3"]]
    bad = await console.get(f"/api/reports.csv?{PERIOD}&only=service.nothing")
    assert bad.status == 400


async def test_page_shows_every_figure(harness: Harness, played: dict[str, str]) -> None:
    """The Reports page shows each breakdown in a table beside its chart, and the headline figures, exactly."""
    console = await harness.console()
    await console.login("sup")
    response = await console.get(f"/console/reports?{PERIOD}")
    assert response.status == 200
    html = await response.text()
    page = ReportPage(html)
    tables = {
        "conversations-by-channel-table": EXPECTED["conversations"]["by_channel"],
        "conversations-by-contact-type-table": EXPECTED["conversations"]["by_contact_type"],
        "conversations-by-missing-type-table": EXPECTED["conversations"]["by_missing_type"],
        "conversations-by-outcome-table": EXPECTED["conversations"]["by_outcome"],
        "service-by-day-table": EXPECTED["service"]["by_day"],
        "service-by-hour-table": EXPECTED["service"]["by_hour"],
        "service-by-weekday-table": EXPECTED["service"]["by_weekday"],
        "service-first-answer-waits-table": EXPECTED["service"]["first_answer_waits"],
        "safeguarding-by-category-table": EXPECTED["safeguarding"]["by_category"],
        "safeguarding-by-level-table": EXPECTED["safeguarding"]["by_level"],
        "safeguarding-by-decision-table": EXPECTED["safeguarding"]["by_decision"],
        "safeguarding-disclosures-table": EXPECTED["safeguarding"]["disclosures"],
    }
    for table_id, counts in tables.items():
        assert page.counts(table_id) == [str(v) for v in counts.values()], table_id
    assert page.tables["conversations-by-outcome-table"][0] == ["Advice or information given", "1"]
    assert page.tables["people-table"] == [
        ["vol1", "12.0", "2"],
        ["vol2", "4.0", "1"],
    ]
    assert page.numbers == {
        "Conversations": "7",
        "New contacts": "6",
        "Returning contacts (consented records)": "1",
        "Out of hours": "1",
        "Answered": "3",
        "Left before an answer": "1",
        "Closed without an answer": "1",
        "Still waiting": "2",
        "Median time to first answer": "10 min 00 s",
        "90% answered within": "20 min 00 s",
        "Median handling time": "25 min 00 s",
        "90% handled within": "30 min 00 s",
        "Escalations": "2",
        "Not yet acknowledged": "1",
        "Median time to acknowledge": "2 min 00 s",
        "90% acknowledged within": "2 min 00 s",
        "Slowest acknowledgement": "2 min 00 s",
        "Hours available": "16.0",
        "Conversations handled": "3",
    }
    assert html.count('<svg class="chart"') == len(tables)
    assert f'href="/api/reports.csv?from={FIRST_DAY}&amp;to={LAST_DAY}&amp;only=service.by_day"' in html
    assert "Hello, can someone help?" not in html


async def test_page_for_admin_has_no_people(harness: Harness, played: dict[str, str]) -> None:
    """An admin's Reports page has the totals but no table per person."""
    console = await harness.console()
    await console.login("adm")
    page = ReportPage(await (await console.get(f"/console/reports?{PERIOD}")).text())
    assert "people-table" not in page.tables
    assert page.numbers["Hours available"] == "16.0"


@pytest.mark.parametrize("path", ["/console/reports", "/api/reports", "/api/reports.csv"])
async def test_volunteers_cannot_open_reports(harness: Harness, played: dict[str, str], path: str) -> None:
    """A volunteer is refused the page and both downloads with 403, and sees no figure."""
    console = await harness.console("vol9", role="volunteer")
    response = await console.get(f"{path}?{PERIOD}")
    assert response.status == 403
    assert "Reports are for supervisors and admins." in await response.text()


async def test_signed_out_page_goes_to_sign_in(harness: Harness) -> None:
    """Without a session the page sends the browser to the sign-in page, and the API answers 401."""
    console = await harness.console()
    response = await console.client.get(f"/console/reports?{PERIOD}", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/login"
    assert (await console.get(f"/api/reports?{PERIOD}")).status == 401


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-03-05&to=2026-03-01",
        "from=2026-13-01&to=2026-03-01",
        "from=2026-03-01",
        "from=2020-01-01&to=2026-01-01",
    ],
)
async def test_bad_period_is_refused(harness: Harness, played: dict[str, str], query: str) -> None:
    """A period that is reversed, not a date, half given or longer than three years gets a clear 400."""
    console = await harness.console()
    await console.login("sup")
    response = await console.get(f"/api/reports?{query}")
    assert response.status == 400
    assert "date" in (await response.json())["error"] or "days" in (await response.json())["error"]
    page = await console.get(f"/console/reports?{query}")
    assert page.status == 400


async def test_report_after_purge_gives_the_same_figures(harness: Harness, played: dict[str, str]) -> None:
    """Purging the transcripts leaves every figure of the report as it was: the statistics outlive them."""
    before = await _json(harness, "sup")
    harness.clock.advance(days=40)
    purged = await harness.helpline.retention.purge()
    assert purged.conversations == 3  # A, B and D (C is held by its escalation; E, F and G are open)
    assert harness.rows("SELECT COUNT(*) FROM messages WHERE conversation_id = ?", (played["A"],)) == [(0,)]
    after = await _json(harness, "sup")
    assert {**after, "made_at": None} == {**before, "made_at": None}


async def test_command_prints_every_figure(
    harness: Harness,
    played: dict[str, str],
    data_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``helpline report --format json`` prints the admin's figures (totals only), CSV and text the same."""
    monkeypatch.setenv("HELPLINE_REPORTS__SMALL_NUMBER_THRESHOLD", "0")
    config = str(data_dir / "helpline.toml")
    argv = ["report", "--from", FIRST_DAY, "--to", LAST_DAY, "--config", config]
    # The command runs its own event loop, so it runs on a thread of its own beside the test's.
    assert await asyncio.to_thread(cli.main, [*argv, "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert {**printed, "made_at": None} == {**_totals_only(EXPECTED), "made_at": None}
    assert await asyncio.to_thread(cli.main, [*argv, "--format", "csv"]) == 0
    assert list(csv.reader(io.StringIO(capsys.readouterr().out)))[1:] == _rows(_totals_only(EXPECTED))
    assert await asyncio.to_thread(cli.main, argv) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"Report {FIRST_DAY} to {LAST_DAY} (Europe/London)\n")
    assert "  total: 7\n" in text
    assert "    2026-03-02: 4\n" in text
    assert "  first answer seconds:\n    median: 600\n    p90: 1200\n" in text
    assert "  hours available: 16.0\n" in text


def test_command_refuses_a_bad_period(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``helpline report`` with the dates the wrong way round exits 2 with a clear message."""
    config = str(data_dir / "helpline.toml")
    assert cli.main(["report", "--from", LAST_DAY, "--to", FIRST_DAY, "--config", config]) == 2
    assert "before the 'from' date" in capsys.readouterr().err
