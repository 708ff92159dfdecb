"""The console shows each account's roles, and an admin alone is taken to the admin page, not the queue."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.async_api import expect

from tests.conftest import PASSWORD, Harness

if TYPE_CHECKING:
    from tests.browser import ConsoleUI

pytest_plugins = ("tests.browser",)


async def test_an_admin_alone_lands_on_the_admin_page_and_sees_the_roles(harness: Harness, ui: ConsoleUI) -> None:
    """Signing in as admin-only leads to the admin page; no conversation link shows; the list names both roles."""
    await harness.helpline.accounts.add_user("ada", "admin", PASSWORD)
    await harness.helpline.accounts.add_user("both", ["supervisor", "admin"], PASSWORD)
    page = await ui.page()
    await page.goto(ui.base_url + "/login")
    await page.get_by_label("Username").fill("ada")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(ui.base_url + "/console/admin")
    await expect(page.locator("#user-role")).to_have_text("(admin)")
    nav = page.get_by_role("navigation", name="Console")
    await expect(nav.get_by_role("link", name="Admin")).to_be_visible()
    for hidden in ("Queue", "Floor", re.compile("^Escalations")):
        await expect(nav.get_by_role("link", name=hidden)).to_have_count(0)
    await expect(page.get_by_role("row", name=re.compile("both"))).to_contain_text("supervisor, admin")


async def test_an_admin_adds_an_account_with_two_roles(harness: Harness, ui: ConsoleUI) -> None:
    """The add form takes several roles as checkboxes, and the new account is listed with both."""
    await harness.helpline.accounts.add_user("ada", ["volunteer", "admin"], PASSWORD)
    page = await ui.sign_in("ada", available=False)
    await page.goto(ui.base_url + "/console/admin")
    await page.get_by_label("Username").fill("sue")
    await page.get_by_role("checkbox", name=re.compile("^Volunteer")).uncheck()
    await page.get_by_role("checkbox", name=re.compile("^Supervisor")).check()
    await page.get_by_role("checkbox", name=re.compile("^Admin")).check()
    await page.get_by_role("button", name="Add account").click()
    await expect(page.locator("#new-password")).to_be_visible()
    await expect(page.get_by_role("row", name=re.compile("sue"))).to_contain_text("supervisor, admin")
