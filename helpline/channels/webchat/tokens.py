"""Chat session tokens: what the contact's browser holds, and the opaque address it stands for.

A token is ``v1.<secret>.<issued>.<tag>``: 32 random bytes, the time it was issued (Unix seconds), and an
HMAC of both under a key derived from the master key (reaching this package as a ``Keyed``). The server
stores no token. From one it derives:

- the chat's **address**, a SHA-256 of the secret, which the core treats like a phone number: sealed in the
  conversation's vault, found through a keyed-HMAC route, deleted when the contact leaves. It is one-way,
  so nothing the server keeps leads back to the token;
- the **expiry**: the issue time plus ``session_max_hours``.

A token whose tag does not verify is forged (or from another server); one past its expiry is expired.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from helpline.clock import Clock

_VERSION = "v1"
_SECRET_BYTES = 32
_MAX_TOKEN_CHARS = 160


class Keyed(Protocol):
    """A keyed MAC: the only key material this package sees is behind it."""

    def digest(self, data: bytes) -> bytes:
        """The MAC under the current key."""

    def digests(self, data: bytes) -> list[bytes]:
        """The MAC under every key still held, current first (tokens issued before a key rotation still verify)."""


class HmacKey:
    """``Keyed`` as HMAC-SHA256 under one subkey per master key version, the current one first."""

    def __init__(self, key: bytes, *older: bytes) -> None:
        self._keys = (key, *older)

    def digest(self, data: bytes) -> bytes:
        return hmac.new(self._keys[0], data, hashlib.sha256).digest()

    def digests(self, data: bytes) -> list[bytes]:
        return [hmac.new(key, data, hashlib.sha256).digest() for key in self._keys]


class TokenProblem(enum.Enum):
    """Why a token was refused."""

    FORGED = "forged"
    EXPIRED = "expired"


@dataclass(frozen=True)
class ChatToken:
    """A verified token, and what follows from it."""

    text: str = field(repr=False)
    address: str = field(repr=False)
    issued_at: datetime
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def address_of(secret: bytes) -> str:
    """The chat's address: one-way, so the vault never holds anything that rebuilds the token."""
    return "wc_" + _b64(hashlib.sha256(b"helpline/webchat/address\x00" + secret).digest())


class ChatTokens:
    """Issues and verifies chat session tokens."""

    def __init__(self, key: Keyed, clock: Clock, *, max_age: timedelta) -> None:
        self._key = key
        self._clock = clock
        self._max_age = max_age

    def issue(self) -> ChatToken:
        secret = secrets.token_bytes(_SECRET_BYTES)
        issued = int(self._clock.now().timestamp())
        body = f"{_VERSION}.{_b64(secret)}.{issued}"
        text = f"{body}.{_b64(self._key.digest(body.encode('ascii'))[:16])}"
        return self._token(text, secret, issued)

    def verify(self, text: str) -> ChatToken | TokenProblem:
        """The token, if it is ours and still current."""
        parsed = self._parse(text)
        if parsed is None:
            return TokenProblem.FORGED
        token = self._token(text, *parsed)
        if self._clock.now() >= token.expires_at:
            return TokenProblem.EXPIRED
        return token

    def _parse(self, text: str) -> tuple[bytes, int] | None:
        """The secret and issue time of a token whose tag verifies; None for anything else."""
        if not isinstance(text, str) or len(text) > _MAX_TOKEN_CHARS or not text.isascii():
            return None
        parts = text.split(".")
        if len(parts) != 4 or parts[0] != _VERSION or not parts[2].isdigit():
            return None
        body = ".".join(parts[:3]).encode("ascii")
        if not any(hmac.compare_digest(_b64(tag[:16]), parts[3]) for tag in self._key.digests(body)):
            return None
        try:
            secret = _unb64(parts[1])
        except ValueError:
            return None
        return (secret, int(parts[2])) if len(secret) == _SECRET_BYTES else None

    def _token(self, text: str, secret: bytes, issued: int) -> ChatToken:
        issued_at = datetime.fromtimestamp(issued, UTC)
        return ChatToken(text, address_of(secret), issued_at, issued_at + self._max_age)
