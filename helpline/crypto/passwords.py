"""Console passwords: argon2id, hashed off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Passwords:
    """Hashes and verifies passwords with argon2id in a worker thread."""

    def __init__(self, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        # Verifying against this when there is no such user keeps both paths equally slow.
        self._dummy = self._hasher.hash("no such user")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when the password matches; a missing hash still costs one verification."""
        return await asyncio.to_thread(self._verify, password_hash or self._dummy, password, password_hash is not None)

    def _verify(self, password_hash: str, password: str, real: bool) -> bool:
        try:
            return self._hasher.verify(password_hash, password) and real
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
