"""Signing in through the browser: two-factor enrolment and codes used once, and the wait after failures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Page, expect

from helpline.settings import Settings
from tests.conftest import PASSWORD, Harness

if TYPE_CHECKING:
    from tests.browser import ConsoleUI

pytest_plugins = ("tests.browser",)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace("auth", require_totp_for=("supervisor", "admin"))


def totp(secret: bytes, at: datetime, *, digits: int = 6, step: int = 30) -> str:
    """RFC 6238 with HMAC-SHA1: HOTP (RFC 4226) of the number of whole steps since the Unix epoch."""
    counter = int(at.timestamp()) // step
    mac = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def base32_secret(text: str) -> bytes:
    compact = "".join(text.split()).upper()
    return base64.b32decode(compact + "=" * (-len(compact) % 8))


def test_totp_matches_rfc_6238_vectors() -> None:
    """The test's own TOTP computation gives RFC 6238's published SHA-1 codes."""
    secret = b"12345678901234567890"
    assert totp(secret, datetime.fromtimestamp(59, UTC), digits=8) == "94287082"
    assert totp(secret, datetime.fromtimestamp(1111111109, UTC), digits=8) == "07081804"
    assert totp(secret, datetime.fromtimestamp(20000000000, UTC), digits=8) == "65353130"


async def sign_in_with_code(page: Page, base_url: str, code: str) -> None:
    await page.goto(base_url + "/login")
    await page.get_by_label("Username").fill("sam")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_label("Code from your authenticator app").fill(code)
    await page.get_by_role("button", name="Verify code").click()


async def test_enrol_then_sign_in_with_code_once(harness: Harness, ui: ConsoleUI) -> None:
    """A supervisor enrols from the QR page, signs in with a fresh code, and the same code is refused again."""
    await harness.helpline.accounts.add_user("sam", "supervisor", PASSWORD)
    page = await ui.page()
    await page.goto(ui.base_url + "/login")
    await page.get_by_label("Username").fill("sam")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(ui.base_url + "/console/totp")

    await page.get_by_role("button", name="Set up two-factor sign-in").click()
    secret_text = page.locator("#totp-secret")
    await expect(secret_text).not_to_be_empty()
    qr = page.get_by_role("img", name=re.compile("QR code"))
    await page.wait_for_function("() => document.getElementById('totp-qr').complete")
    assert await qr.evaluate("img => img.naturalWidth") > 0, "the QR code image did not render"
    secret = base32_secret(await secret_text.inner_text())
    await page.get_by_label("Code shown by the app").fill(totp(secret, harness.clock.now()))
    await page.get_by_role("button", name="Turn on two-factor sign-in").click()
    await expect(page.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible()

    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(ui.base_url + "/login")
    harness.clock.advance(seconds=30)
    code = totp(secret, harness.clock.now())
    await sign_in_with_code(page, ui.base_url, code)
    await page.wait_for_url(ui.base_url + "/console")

    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(ui.base_url + "/login")
    await sign_in_with_code(page, ui.base_url, code)
    await expect(page.get_by_role("alert")).not_to_be_empty()
    assert page.url == ui.base_url + "/login"
    await expect(page.get_by_label("Code from your authenticator app")).to_be_focused()


async def test_repeated_failures_show_the_wait(harness: Harness, ui: ConsoleUI) -> None:
    """After repeated wrong passwords the page says how long to wait and holds the button until then."""
    await harness.helpline.accounts.add_user("kim", "volunteer", PASSWORD)
    page = await ui.page()
    await page.goto(ui.base_url + "/login")
    alert = page.get_by_role("alert")
    for attempt in range(harness.settings.auth.throttle_after + 1):
        await page.get_by_label("Username").fill("kim")
        await page.get_by_label("Password").fill(f"wrong password {attempt}")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_label("Password")).to_have_value("")
    await expect(alert).to_contain_text("Try again in")
    await expect(page.get_by_role("button", name=re.compile(r"^Wait \d+ s$"))).to_be_disabled()
    assert page.url == ui.base_url + "/login"


async def test_replacing_the_authenticator_asks_for_the_current_code_or_password(
    harness: Harness, ui: ConsoleUI
) -> None:
    """With two-factor on, 'Set up a new authenticator' first asks who you are; a wrong password is refused."""
    await harness.helpline.accounts.add_user("sam", "supervisor", PASSWORD)
    page = await ui.page()
    await page.goto(ui.base_url + "/login")
    await page.get_by_label("Username").fill("sam")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(ui.base_url + "/console/totp")
    await page.get_by_role("button", name="Set up two-factor sign-in").click()
    await expect(page.locator("#totp-secret")).not_to_be_empty()
    secret = base32_secret(await page.locator("#totp-secret").inner_text())
    await page.get_by_label("Code shown by the app").fill(totp(secret, harness.clock.now()))
    await page.get_by_role("button", name="Turn on two-factor sign-in").click()
    await expect(page.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible()

    await page.reload()
    await page.get_by_role("button", name="Set up a new authenticator").click()
    await expect(page.get_by_role("heading", name="Show it is you")).to_be_focused()
    await page.get_by_label("Or your password").fill("not my password")
    await page.get_by_role("button", name="Continue").click()
    await expect(page.locator("#totp-proof-error")).to_contain_text("wrong")
    await expect(page.locator("#totp-enrol")).to_be_hidden()
    await page.get_by_label("Or your password").fill(PASSWORD)
    await page.get_by_role("button", name="Continue").click()
    await expect(page.locator("#totp-secret")).not_to_be_empty()
    assert base32_secret(await page.locator("#totp-secret").inner_text()) != secret
