"""Sealing small server-side secrets (TOTP seeds) under a subkey derived from the master key."""

from __future__ import annotations

from helpline.crypto import envelope
from helpline.crypto.keyring import Keyring
from helpline.errors import DecryptionError, MasterKeyError


class SecretBox:
    """Implements ``core.ports.SecretBox``: an AES-GCM envelope bound to a context such as ``users|id|totp``.

    Seals under the subkey of the current master key version and opens under the version named in the
    envelope, so secrets sealed before a rotation keep opening until ``helpline keys rotate`` reseals them.
    """

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._keys: dict[int, bytes] = {}

    def seal(self, context: str, plaintext: str) -> bytes:
        version = self._keyring.current_version
        return envelope.seal(self._key(version), plaintext.encode(), context.encode(), key_version=version)

    def open(self, context: str, blob: bytes) -> str:
        version = envelope.key_version(blob)
        try:
            key = self._key(version)
        except MasterKeyError:
            raise DecryptionError("sealed under a master key version that is no longer held") from None
        return envelope.open_(key, blob, context.encode()).decode()

    def version_of(self, blob: bytes) -> int:
        """The master key version a secret was sealed under."""
        return envelope.key_version(blob)

    def reseal(self, context: str, blob: bytes) -> bytes:
        """The same secret, sealed under the current master key version."""
        return self.seal(context, self.open(context, blob))

    def _key(self, version: int) -> bytes:
        if version not in self._keyring.versions:
            self._keys.pop(version, None)  # retired: forget its subkey too
        key = self._keys.get(version)
        if key is None:
            key = self._keys[version] = self._keyring.subkey("secretbox", version)
        return key
