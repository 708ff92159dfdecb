"""A stolen session alone cannot replace an enrolled second factor: the current code or the password is needed."""

from __future__ import annotations

import pytest

from helpline.settings import Settings
from tests.conftest import PASSWORD, Harness
from tests.test_totp import enrol, rfc6238


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace("auth", require_totp_for=("supervisor", "admin"), network_failures=1000)


async def test_a_session_alone_cannot_start_a_new_enrolment(harness: Harness) -> None:
    """With two-factor sign-in on, enrolling again with nothing but the cookie is refused and changes nothing."""
    sam, _ = await enrol(harness, "sam", "supervisor")
    [(before,)] = harness.rows("SELECT totp_secret FROM users WHERE username = 'sam'")
    refused = await sam.post("/api/totp/enrol")
    assert refused.status == 403
    assert (await refused.json())["proof_required"] is True
    assert harness.rows("SELECT totp_secret, totp_pending FROM users WHERE username = 'sam'") == [(before, None)]


async def test_a_wrong_code_or_password_is_refused_and_counted(harness: Harness) -> None:
    """Guessing through the enrolment form is refused and counts as a failed sign-in, so it is throttled too."""
    sam, _ = await enrol(harness, "sam", "supervisor")
    assert (await sam.post("/api/totp/enrol", {"code": "000000"})).status == 403
    assert (await sam.post("/api/totp/enrol", {"password": "not the password"})).status == 403
    assert harness.rows("SELECT COUNT(*) FROM audit WHERE action = 'auth.sign_in_failed'") == [(2,)]
    assert harness.rows("SELECT totp_pending FROM users WHERE username = 'sam'") == [(None,)]


async def test_the_current_code_allows_a_new_authenticator_audited_as_a_replacement(harness: Harness) -> None:
    """With the current code, a new secret is enrolled; the old one stops working; the audit says 'reenrolled'."""
    sam, old = await enrol(harness, "sam", "supervisor")
    harness.clock.advance(seconds=30)
    started = await sam.post("/api/totp/enrol", {"code": rfc6238(old, harness.clock.now())})
    assert started.status == 200
    new = (await started.json())["secret"]
    assert new != old
    harness.clock.advance(seconds=30)
    assert (await sam.post("/api/totp/confirm", {"code": rfc6238(new, harness.clock.now())})).status == 200
    actions = [r[0] for r in harness.rows("SELECT action FROM audit WHERE action LIKE 'auth.totp%' ORDER BY seq")]
    assert actions == ["auth.totp_enrolled", "auth.totp_reenrolled"]
    harness.clock.advance(seconds=30)
    console = (await harness.console()).client
    login = {"username": "sam", "password": PASSWORD, "totp": rfc6238(old, harness.clock.now())}
    assert (await console.post("/api/login", json=login)).status == 401
    login["totp"] = rfc6238(new, harness.clock.now())
    assert (await console.post("/api/login", json=login)).status == 200


async def test_the_password_also_proves_it_for_a_lost_phone(harness: Harness) -> None:
    """Someone whose phone is lost gives their password instead of the code."""
    sam, _ = await enrol(harness, "sam", "supervisor")
    assert (await sam.post("/api/totp/enrol", {"password": PASSWORD})).status == 200
