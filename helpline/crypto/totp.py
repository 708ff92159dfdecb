"""RFC 6238 time-based one-time codes (30-second steps, 6 digits, SHA-1 as authenticator apps expect)."""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

STEP_SECONDS = 30


class TotpCodes:
    """Implements ``core.ports.Totp``."""

    def new_secret(self) -> str:
        return pyotp.random_base32()

    def match(self, secret: str, code: str, now: datetime) -> int | None:
        """The time step ``code`` belongs to, accepting one step either side for clock drift."""
        code = code.strip().replace(" ", "")
        if len(code) != 6 or not code.isdigit():
            return None
        totp = pyotp.TOTP(secret)
        step = int(now.timestamp()) // STEP_SECONDS
        for candidate in (step, step - 1, step + 1):
            if hmac.compare_digest(totp.at(candidate * STEP_SECONDS), code):
                return candidate
        return None

    def uri(self, secret: str, username: str, issuer: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)
