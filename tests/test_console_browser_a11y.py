"""Every console page checked by axe-core (WCAG 2.2 A and AA) and for fitting a 320 px wide screen."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import axe_playwright_python
from playwright.async_api import Page, expect

from tests.conftest import Harness

if TYPE_CHECKING:
    from tests.browser import ConsoleUI

pytest_plugins = ("tests.browser",)

AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
NARROW = {"width": 320, "height": 640}


async def problems(page: Page) -> list[str]:
    """axe-core's serious and critical findings, and any sideways scrolling at the current width."""
    await page.evaluate(AXE)
    found: list[dict[str, Any]] = await page.evaluate(
        """async tags => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}));
        }""",
        AXE_TAGS,
    )
    issues = [f"{v['id']} {v['nodes']}" for v in found if v["impact"] in ("serious", "critical")]
    if await page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth"):
        issues.append("scrolls sideways")
    return issues


async def test_console_pages_pass_axe_and_fit_320_px(harness: Harness, ui: ConsoleUI) -> None:
    """Login, queue, conversation (with the consented record form), record, floor, admin and 2FA pages pass."""
    # One account holding both roles explicitly, so that it reaches every page.
    admin = await harness.console("ada", role="supervisor admin")
    await admin.post("/api/admin/canned", {"code": "safe", "title": "Safe to talk", "body": "You are safe here."})
    await admin.post("/api/me/availability", {"availability": "available"})
    await harness.text("+447700900201", "I want to kill myself tonight")
    await harness.text("+447700900202", "my sister has gone missing")
    [first, _] = await admin.queue()
    assert (await admin.post(f"/api/conversations/{first['id']}/claim")).status == 200
    record = {"name": "Jo", "date_of_birth": "2010-01-01", "contact_details": "", "summary": "Safe now."}
    close = {
        "outcome": "advice",
        "contact_type": "other",
        "consent": True,
        "record": record,
        "no_flag_reason": "x" * 12,
    }
    assert (await admin.post(f"/api/conversations/{first['id']}/close", close)).status == 200
    record_id = (await admin.conversation(first["id"]))["record_id"]
    await harness.text("+447700900201", "it's me again")

    page = await ui.page(viewport=NARROW)
    found: dict[str, list[str]] = {}
    await page.goto(ui.base_url + "/login")
    found["login"] = await problems(page)

    await ui.sign_in("ada", page=page)
    await expect(page.locator("#waiting-rows tr")).to_have_count(2)
    found["queue"] = await problems(page)

    returning = page.get_by_role("row", name=re.compile("Returning"))
    await returning.get_by_role("button", name=re.compile(r"^Claim")).click()
    await expect(page.get_by_role("log")).to_contain_text("it's me again")
    await page.get_by_text("Canned responses", exact=True).click()
    await page.get_by_label("Yes, they agreed").check()
    found["conversation"] = await problems(page)

    await page.get_by_role("link", name="Returning contact — see their record").click()
    await page.wait_for_url(ui.base_url + f"/console/records/{record_id}")
    await expect(page.locator("#record-name")).to_have_text("Jo")
    await expect(page.locator("#record-consent")).to_contain_text("Can we keep a note")
    found["record"] = await problems(page)

    await page.goto(ui.base_url + "/console/floor")
    await expect(page.locator("#staff-rows tr")).to_have_count(1)
    found["floor"] = await problems(page)

    await page.goto(ui.base_url + "/console/admin")
    await expect(page.locator("#users-rows tr")).to_have_count(1)
    await expect(page.locator("#canned-admin-list li")).to_have_count(1)
    await page.get_by_label("Username").fill("newvol")
    await page.get_by_role("button", name="Add account").click()
    await expect(page.locator("#new-password-value")).to_have_text(re.compile(r"^\S{12,}$"))
    await expect(page.locator("#users-rows tr")).to_have_count(2)
    found["admin"] = await problems(page)

    await page.goto(ui.base_url + "/console/totp")
    await page.get_by_role("button", name="Set up two-factor sign-in").click()
    await expect(page.locator("#totp-secret")).not_to_be_empty()
    found["totp"] = await problems(page)

    assert found == {name: [] for name in found}
