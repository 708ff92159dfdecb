"""The master keyring: versioned 256-bit master keys (KEKs) and HKDF subkeys, one purpose each.

The key file is JSON, mode 0600, never in the database::

    {"format": "helpline-master-key", "current": 2, "keys": {"1": "<base64url>", "2": "<base64url>"}}

``current`` wraps new data keys; older versions stay only until ``helpline keys rotate`` has rewrapped
everything under the current one. ``HELPLINE_MASTER_KEY`` may hold the same JSON instead of a file.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from helpline.errors import MasterKeyError

FORMAT = "helpline-master-key"
KEY_BYTES = 32


class Keyring:
    """Master key versions, and subkeys derived from them with HKDF-SHA256."""

    def __init__(self, keys: dict[int, bytes], current: int) -> None:
        if current not in keys:
            raise MasterKeyError("the master key file names a current version it does not hold")
        if any(len(k) != KEY_BYTES for k in keys.values()):
            raise MasterKeyError("every master key must be 32 bytes")
        self._keys = dict(keys)
        self.current_version = current

    @classmethod
    def generate(cls) -> Keyring:
        """A new keyring with one random master key, version 1."""
        return cls({1: secrets.token_bytes(KEY_BYTES)}, 1)

    @classmethod
    def from_text(cls, text: str) -> Keyring:
        """Parse the key file's JSON."""
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                raise ValueError("format")
            keys = {int(v): base64.urlsafe_b64decode(k) for v, k in data["keys"].items()}
            return cls(keys, int(data["current"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise MasterKeyError("the master key is not a helpline master key file") from None

    @classmethod
    def load(cls, path: Path, env_value: str = "") -> Keyring:
        """The keyring from ``HELPLINE_MASTER_KEY`` when set, else from the key file."""
        if env_value:
            return cls.from_text(env_value)
        try:
            return cls.from_text(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise MasterKeyError(f"no master key file at {path}; run `helpline init`") from None

    def to_text(self) -> str:
        """The key file's JSON."""
        keys = {str(v): base64.urlsafe_b64encode(k).decode("ascii") for v, k in sorted(self._keys.items())}
        return json.dumps({"format": FORMAT, "current": self.current_version, "keys": keys}, indent=2) + "\n"

    def write_new(self, path: Path) -> None:
        """Write the key file with mode 0600; refuse to overwrite an existing one."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise MasterKeyError(f"a master key already exists at {path}; refusing to overwrite it") from None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(self.to_text())
            handle.flush()
            os.fsync(handle.fileno())

    @property
    def versions(self) -> list[int]:
        return sorted(self._keys)

    def kek(self, version: int) -> bytes:
        """The master key of one version."""
        try:
            return self._keys[version]
        except KeyError:
            raise MasterKeyError(f"master key version {version} is not in the keyring") from None

    def subkey(self, purpose: str, version: int | None = None) -> bytes:
        """A 256-bit key for one purpose, derived from a master key version (the current by default)."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"helpline/" + purpose.encode())
        return hkdf.derive(self.kek(self.current_version if version is None else version))
