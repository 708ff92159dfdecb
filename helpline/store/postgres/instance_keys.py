"""``PgInstanceKeys``: which master key versions each running instance holds and uses, shared through PostgreSQL.

Instances on several hosts each read their own copy of the key file (``crypto/keyring.py``). Every second, each
instance writes a row — a random id of its own, its host's name and process id, the versions its keyring holds
and the one it wraps new keys with — and reads the newest version the database records as added and not retired
(``key_versions``, written by ``helpline keys rotate``): if that is newer than the one it uses and it holds it,
it uses it from then on, whatever its file says is current. ``helpline keys rotate`` reads the rows back to wait
until every running instance holds the new version before making it current, and uses it before rewrapping
(``lagging``). A row not written for ``LIVE`` is an instance that stopped; the rows hold no key.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Protocol

from helpline.core.ids import new_id
from helpline.errors import StoreError
from helpline.log import get_logger
from helpline.store.postgres.database import PostgresStore

log = get_logger(__name__)
# An instance that has not written its row for this long has stopped (it writes every ``every`` seconds).
LIVE = timedelta(seconds=15)
_ANNOUNCED = "SELECT max(version) AS version FROM key_versions WHERE retired_at IS NULL"
_WRITE = (
    "INSERT INTO instance_keys (instance, host, versions, in_use, seen_at) VALUES ($1, $2, $3, $4, now())"
    " ON CONFLICT (instance) DO UPDATE SET versions = EXCLUDED.versions, in_use = EXCLUDED.in_use,"
    " seen_at = EXCLUDED.seen_at"
)
_LAGGING = (
    "SELECT host FROM instance_keys WHERE seen_at > now() - $1::interval"
    " AND NOT ($2 = ANY(versions) AND ($3 = false OR in_use = $2)) ORDER BY host"
)


class HeldKeys(Protocol):
    """The keyring as this needs it (``crypto.keyring.Keyring``)."""

    @property
    def versions(self) -> list[int]: ...
    @property
    def current_version(self) -> int: ...
    def adopt(self, version: int) -> bool: ...


class PgInstanceKeys:
    """This instance's row in ``instance_keys``, and what every instance's rows say."""

    def __init__(self, store: PostgresStore, keys: HeldKeys, *, host: str = "", every: float = 1.0) -> None:
        self._store = store
        self._keys = keys
        self._instance = new_id()
        self._host = host or self._instance
        self._every = every
        self._missing: int | None = None

    async def share(self) -> None:
        """Use the version the database says is current if it is held; write what this instance holds and uses."""
        [row] = await self._store.fetch(_ANNOUNCED)
        announced = row["version"]
        if announced is not None and announced > self._keys.current_version:
            if self._keys.adopt(announced):
                log.info("keys.version_adopted", version=announced)
            elif self._missing != announced:
                # The operator has not copied the new key file to this host yet.
                self._missing = announced
                log.warning("keys.version_not_held", version=announced)
        await self._store.fetch(_WRITE, self._instance, self._host, self._keys.versions, self._keys.current_version)

    async def run(self) -> None:
        """Until cancelled: ``share`` every ``every`` seconds; at the end, remove this instance's row."""
        try:
            while True:
                # The database away is logged by the store; tried again next round.
                with contextlib.suppress(StoreError):
                    await self.share()
                await asyncio.sleep(self._every)
        finally:
            with contextlib.suppress(StoreError):
                await self._store.fetch("DELETE FROM instance_keys WHERE instance = $1", self._instance)

    async def lagging(self, version: int, *, using: bool) -> list[str]:
        """The running instances (by host) that do not hold ``version`` — or, with ``using``, do not use it yet."""
        rows = await self._store.fetch(_LAGGING, LIVE, version, using)
        return [r["host"] for r in rows]
