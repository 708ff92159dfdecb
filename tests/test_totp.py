"""Two-factor sign-in: enrolment with a QR code, codes computed here per RFC 6238, each accepted once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from datetime import datetime

import pytest

from helpline.settings import Settings
from tests.conftest import PASSWORD, Console, Harness


def rfc6238(secret: str, moment: datetime, step_offset: int = 0) -> str:
    """The 6-digit TOTP code for ``moment``, computed independently of the server."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int(moment.timestamp()) // 30 + step_offset
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace("auth", require_totp_for=("supervisor", "admin"))


async def enrol(harness: Harness, username: str, role: str) -> tuple[Console, str]:
    """Sign in with a password, enrol, confirm with a computed code; returns the console and the secret."""
    console = await harness.console(username, role=role)
    started = await console.post("/api/totp/enrol")
    assert started.status == 200
    secret = (await started.json())["secret"]
    qr = await console.get("/api/totp/qr.svg")
    assert qr.status == 200 and qr.content_type == "image/svg+xml"
    svg = await qr.text()
    assert svg.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in svg  # an <img> needs the namespace
    confirmed = await console.post("/api/totp/confirm", {"code": rfc6238(secret, harness.clock.now())})
    assert confirmed.status == 200, await confirmed.text()
    assert (await confirmed.json())["user"]["totp_enabled"] is True
    return console, secret


async def test_supervisor_must_enrol_before_using_the_console(harness: Harness) -> None:
    """A supervisor without two-factor sign-in can reach only enrolment until it is done."""
    sam = await harness.console("sam", role="supervisor")
    refused = await sam.get("/api/queue")
    assert refused.status == 403
    assert (await refused.json())["must_enrol_totp"] is True
    session = await (await sam.get("/api/session")).json()
    assert session["user"]["must_enrol_totp"] is True


async def test_enrol_then_sign_in_with_a_code(harness: Harness) -> None:
    """After enrolment, sign-in needs the password and a current code."""
    _, secret = await enrol(harness, "sam", "supervisor")
    fresh = await harness.console()
    without = await fresh.login("sam")
    assert without.status == 401 and (await without.json())["totp_required"] is True
    harness.clock.advance(seconds=30)
    response = await fresh.client.post(
        "/api/login", json={"username": "sam", "password": PASSWORD, "totp": rfc6238(secret, harness.clock.now())}
    )
    assert response.status == 200
    fresh.csrf = (await response.json())["csrf_token"]
    assert (await fresh.get("/api/queue")).status == 200


async def test_a_code_works_only_once(harness: Harness) -> None:
    """The same code cannot be used twice, even within its 30 seconds."""
    _, secret = await enrol(harness, "sam", "supervisor")
    harness.clock.advance(seconds=30)
    code = rfc6238(secret, harness.clock.now())
    first = await (await harness.console()).client.post(
        "/api/login", json={"username": "sam", "password": PASSWORD, "totp": code}
    )
    assert first.status == 200
    replay = await (await harness.console()).client.post(
        "/api/login", json={"username": "sam", "password": PASSWORD, "totp": code}
    )
    assert replay.status == 401
    assert "already been used" in (await replay.json())["error"]


async def test_enrolment_code_cannot_be_replayed_at_sign_in(harness: Harness) -> None:
    """The code that confirmed enrolment is spent."""
    console = await harness.console("sam", role="supervisor")
    secret = (await (await console.post("/api/totp/enrol")).json())["secret"]
    code = rfc6238(secret, harness.clock.now())
    assert (await console.post("/api/totp/confirm", {"code": code})).status == 200
    replay = await (await harness.console()).client.post(
        "/api/login", json={"username": "sam", "password": PASSWORD, "totp": code}
    )
    assert replay.status == 401


async def test_wrong_code_at_enrolment_is_refused(harness: Harness) -> None:
    """Confirming with a wrong code leaves two-factor sign-in off."""
    console = await harness.console("sam", role="supervisor")
    secret = (await (await console.post("/api/totp/enrol")).json())["secret"]
    wrong = rfc6238(secret, harness.clock.now(), step_offset=5)
    response = await console.post("/api/totp/confirm", {"code": wrong})
    assert response.status == 400
    assert (await (await console.get("/api/session")).json())["user"]["totp_enabled"] is False


async def test_secret_is_not_stored_in_plaintext(harness: Harness) -> None:
    """The TOTP seed is sealed in the database."""
    _, secret = await enrol(harness, "sam", "supervisor")
    assert secret.encode() not in harness.db.stored_bytes()


async def test_admin_can_reset_two_factor(harness: Harness) -> None:
    """After an admin resets it, the user signs in with a password and must enrol again."""
    await enrol(harness, "sam", "supervisor")
    admin, _ = await enrol(harness, "ada", "admin")
    assert (await admin.post("/api/admin/users/sam/reset-totp")).status == 200
    again = await harness.console()
    assert (await again.login("sam")).status == 200
    assert (await again.get("/api/queue")).status == 403
