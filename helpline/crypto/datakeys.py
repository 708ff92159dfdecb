"""Per-row data keys: each conversation (and each consent record) has its own AES-256 key.

A data key is stored only wrapped — sealed in an envelope by the master key, with the master key's
version in the envelope and the owning row as its context. Destroying the wrapped key (crypto-shredding)
makes every ciphertext of that row unreadable, including copies in backups. Unwrapped keys are kept in a
small in-memory cache so the hot path does no unwrapping.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict

from helpline.core.models import KeyRef
from helpline.crypto import envelope
from helpline.crypto.keyring import KEY_BYTES, Keyring
from helpline.errors import DecryptionError


class DataKeys:
    """Creates, unwraps and caches per-row data keys; seals and opens the row's fields with them."""

    def __init__(self, keyring: Keyring, cache_size: int = 4096) -> None:
        self._keyring = keyring
        self._cache: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._cache_size = cache_size

    def new_key(self, owner_table: str, owner_id: str) -> KeyRef:
        """A fresh data key for a new row, wrapped by the current master key."""
        secret = secrets.token_bytes(KEY_BYTES)
        self._remember((owner_table, owner_id), secret)
        wrapped, version = self._wrap(owner_table, owner_id, secret)
        return KeyRef(owner_table, owner_id, wrapped, version)

    def rewrap(self, key: KeyRef) -> KeyRef:
        """The same data key, wrapped by the current master key version."""
        wrapped, version = self._wrap(key.table, key.row_id, self._unwrap(key))
        return KeyRef(key.table, key.row_id, wrapped, version)

    @property
    def current_version(self) -> int:
        """The master key version new and rewrapped keys are wrapped by."""
        return self._keyring.current_version

    def check(self, key: KeyRef) -> None:
        """Unwrap ``key`` afresh (never from the cache); MasterKeyError or DecryptionError if it does not open."""
        version = envelope.key_version(key.wrapped)
        if version != key.kek_version:
            raise DecryptionError("the wrapped key's header and its recorded master key version disagree")
        envelope.open_(self._keyring.kek(version), key.wrapped, envelope.context(key.table, key.row_id, "data_key"))

    def seal(self, key: KeyRef, table: str, row_id: str, field_name: str, plaintext: str) -> bytes:
        """Encrypt one field of one row under the owner's data key."""
        ctx = envelope.context(table, row_id, field_name)
        return envelope.seal(self._unwrap(key), plaintext.encode("utf-8"), ctx)

    def open(self, key: KeyRef, table: str, row_id: str, field_name: str, blob: bytes) -> str:
        """Decrypt one field of one row; DecryptionError if it was altered or moved."""
        ctx = envelope.context(table, row_id, field_name)
        return envelope.open_(self._unwrap(key), blob, ctx).decode("utf-8")

    def forget(self, owner_table: str, owner_id: str) -> None:
        """Drop a cached key (after it is shredded)."""
        self._cache.pop((owner_table, owner_id), None)

    def _wrap(self, table: str, row_id: str, secret: bytes) -> tuple[bytes, int]:
        version = self._keyring.current_version
        ctx = envelope.context(table, row_id, "data_key")
        return envelope.seal(self._keyring.kek(version), secret, ctx, key_version=version), version

    def _unwrap(self, key: KeyRef) -> bytes:
        slot = (key.table, key.row_id)
        cached = self._cache.get(slot)
        if cached is not None:
            self._cache.move_to_end(slot)
            return cached
        kek = self._keyring.kek(key.kek_version)
        secret = envelope.open_(kek, key.wrapped, envelope.context(key.table, key.row_id, "data_key"))
        self._remember(slot, secret)
        return secret

    def _remember(self, slot: tuple[str, str], secret: bytes) -> None:
        self._cache[slot] = secret
        self._cache.move_to_end(slot)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
