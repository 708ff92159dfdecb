"""Sealing small server-side secrets (TOTP seeds) under a subkey derived from the master key."""

from __future__ import annotations

from helpline.crypto import envelope
from helpline.crypto.keyring import Keyring
from helpline.errors import DecryptionError


class SecretBox:
    """Implements ``core.ports.SecretBox``: an AES-GCM envelope bound to a context such as ``users|id|totp``."""

    def __init__(self, keyring: Keyring) -> None:
        self._version = keyring.current_version
        self._keys = {v: keyring.subkey("secretbox", v) for v in keyring.versions}

    def seal(self, context: str, plaintext: str) -> bytes:
        return envelope.seal(self._keys[self._version], plaintext.encode(), context.encode(), key_version=self._version)

    def open(self, context: str, blob: bytes) -> str:
        key = self._keys.get(envelope.key_version(blob))
        if key is None:
            raise DecryptionError("sealed under a master key version that is no longer held")
        return envelope.open_(key, blob, context.encode()).decode()
