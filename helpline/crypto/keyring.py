"""The master keyring: versioned 256-bit master keys (KEKs) and HKDF subkeys, one purpose each.

The key file is JSON, mode 0600, never in the database::

    {"format": "helpline-master-key", "current": 2, "keys": {"1": "<base64url>", "2": "<base64url>"}}

``current`` wraps new data keys; older versions stay only until ``helpline keys rotate`` has rewrapped
everything under the current one. ``HELPLINE_MASTER_KEY`` may hold the same JSON instead of a file.

A keyring loaded from a file follows it while the server runs: ``helpline keys rotate`` (another process)
replaces the file atomically, and the keyring sees the change — a new current version, a version it did
not hold, a retired one gone — by comparing the file's inode, size and modification time. It looks at most
every ``LOOK_EVERY_SECONDS`` (a ``stat`` on every use cost several per message), and at once when asked for
a version it does not hold; ``helpline keys rotate`` waits twice that long after replacing the file before
it rewraps anything, so every running server uses the new version by then. If the file cannot be read at
that moment, the keys already held stay in use.

Where instances on several hosts share one database, each host has its own copy of the key file, so a new
version cannot be current the moment one host's file has it. ``helpline keys rotate`` then adds it to the file
without making it current (``with_new_version(make_current=False)``), waits until every running instance holds
it (the operator copies the file to each host), and records it as current in the database; each instance
``adopt``s it from there (``store/postgres/instance_keys.py``), whatever its own file says is current.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from helpline.errors import MasterKeyError

FORMAT = "helpline-master-key"
KEY_BYTES = 32
# How often a keyring loaded from a file looks whether the file was replaced (see above).
LOOK_EVERY_SECONDS = 0.05


class Keyring:
    """Master key versions, and subkeys derived from them with HKDF-SHA256."""

    def __init__(
        self,
        keys: dict[int, bytes],
        current: int,
        source: Path | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if current not in keys:
            raise MasterKeyError("the master key file names a current version it does not hold")
        if any(len(k) != KEY_BYTES for k in keys.values()):
            raise MasterKeyError("every master key must be 32 bytes")
        if any(v < 1 for v in keys):
            raise MasterKeyError("master key versions start at 1")
        self._keys = dict(keys)
        self._current = current
        # A newer version made current by the database's say-so, not the file's (see the module's text).
        self._adopted = 0
        self._source = source
        self._mark = _file_mark(source) if source is not None else None
        self._monotonic = monotonic
        self._looked_at = monotonic()

    @property
    def current_version(self) -> int:
        """The version that wraps new keys (after noticing a rotation made by another process)."""
        self._follow_file()
        if self._adopted > self._current and self._adopted in self._keys:
            return self._adopted
        return self._current

    def adopt(self, version: int) -> bool:
        """Wrap new keys with ``version`` from now on, if it is held (re-reading the key file once if not) and
        newer than the current one; False if it is not held."""
        if version not in self._keys:
            self._follow_file(now=True)
        if version not in self._keys:
            return False
        self._adopted = max(self._adopted, version)
        return True

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
    def load(cls, path: Path, env_value: str = "", *, monotonic: Callable[[], float] = time.monotonic) -> Keyring:
        """The keyring from ``HELPLINE_MASTER_KEY`` when set, else from the key file (``monotonic`` times its looks)."""
        if env_value:
            return cls.from_text(env_value)
        mark = _file_mark(path)  # taken before reading, so a replacement made meanwhile is noticed later
        try:
            loaded = cls.from_text(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise MasterKeyError(f"no master key file at {path}; run `helpline init`") from None
        ring = cls(loaded._keys, loaded._current, source=path, monotonic=monotonic)
        ring._mark = mark
        return ring

    @property
    def source(self) -> Path | None:
        """The key file this keyring follows; None when it came from ``HELPLINE_MASTER_KEY``."""
        return self._source

    def to_text(self) -> str:
        """The key file's JSON."""
        keys = {str(v): base64.urlsafe_b64encode(k).decode("ascii") for v, k in sorted(self._keys.items())}
        return json.dumps({"format": FORMAT, "current": self._current, "keys": keys}, indent=2) + "\n"

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

    def write_replacing(self, path: Path) -> None:
        """Replace the key file atomically (a new file, fsynced, renamed over it), keeping mode 0600.

        A crash leaves either the old file or the new one, never a mix; a stray temporary file is
        replaced on the next try.
        """
        temporary = path.with_name(path.name + ".new")
        temporary.unlink(missing_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(self.to_text())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def with_new_version(self, *, make_current: bool = True) -> Keyring:
        """A copy with one more random master key, made current unless told not to; every old version is kept."""
        version = max(self._keys) + 1
        current = version if make_current else self._current
        return Keyring({**self._keys, version: secrets.token_bytes(KEY_BYTES)}, current, self._source)

    def made_current(self, version: int) -> Keyring:
        """A copy in which ``version`` (held) is current."""
        if version not in self._keys:
            raise MasterKeyError(f"master key version {version} is not in the keyring")
        return Keyring(self._keys, version, self._source)

    @property
    def newest_version(self) -> int:
        """The highest version held: newer than the current one while a rotation waits for every instance."""
        self._follow_file()
        return max(self._keys)

    def without_version(self, version: int) -> Keyring:
        """A copy that no longer holds ``version`` (which must not be the current one)."""
        if version == self._current:
            raise MasterKeyError("the current master key version cannot be retired")
        if version not in self._keys:
            raise MasterKeyError(f"master key version {version} is not in the keyring")
        return Keyring({v: k for v, k in self._keys.items() if v != version}, self._current, self._source)

    @property
    def versions(self) -> list[int]:
        self._follow_file()
        return sorted(self._keys)

    def kek(self, version: int) -> bytes:
        """The master key of one version (re-reading the key file once if it is not held)."""
        if version not in self._keys:
            self._follow_file(now=True)
        try:
            return self._keys[version]
        except KeyError:
            raise MasterKeyError(f"master key version {version} is not in the keyring") from None

    def subkey(self, purpose: str, version: int | None = None) -> bytes:
        """A 256-bit key for one purpose, derived from a master key version (the current by default)."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"helpline/" + purpose.encode())
        return hkdf.derive(self.kek(self.current_version if version is None else version))

    def _follow_file(self, *, now: bool = False) -> None:
        if self._source is None:
            return
        moment = self._monotonic()
        if not now and moment - self._looked_at < LOOK_EVERY_SECONDS:
            return
        self._looked_at = moment
        mark = _file_mark(self._source)
        if mark is None or mark == self._mark:
            return
        try:
            fresh = Keyring.from_text(self._source.read_text(encoding="utf-8"))
        except (OSError, MasterKeyError):
            return  # mid-replacement or unreadable: keep the keys already held, try again next time
        self._keys, self._current, self._mark = fresh._keys, fresh._current, mark


def _file_mark(path: Path) -> tuple[int, int, int] | None:
    """What changes when the key file is replaced: its inode, size and modification time."""
    try:
        found = path.stat()
    except OSError:
        return None
    return (found.st_ino, found.st_size, found.st_mtime_ns)
