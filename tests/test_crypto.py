"""The crypto primitives, pinned by known-answer vectors, and their refusals."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from helpline.crypto import envelope
from helpline.crypto.datakeys import DataKeys
from helpline.crypto.keyring import Keyring
from helpline.crypto.passwords import Passwords
from helpline.crypto.pseudonyms import Pseudonyms
from helpline.errors import DecryptionError, MasterKeyError

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent / "data" / "crypto-vectors.json").read_text())


@pytest.mark.parametrize("vector", VECTORS["envelope"], ids=lambda v: v["context"])
def test_envelope_known_answers(vector: dict[str, Any]) -> None:
    """Sealing with a fixed key and nonce gives the pinned bytes, and they open to the plaintext."""
    key = bytes.fromhex(vector["key"])
    ctx = vector["context"].encode()
    sealed = envelope.seal(
        key, vector["plaintext"].encode(), ctx, key_version=vector["key_version"], nonce=bytes.fromhex(vector["nonce"])
    )
    assert sealed.hex() == vector["envelope"]
    assert envelope.open_(key, sealed, ctx).decode() == vector["plaintext"]
    assert envelope.key_version(sealed) == vector["key_version"]


@pytest.mark.parametrize("vector", VECTORS["subkeys"], ids=lambda v: v["purpose"])
def test_subkey_known_answers(vector: dict[str, Any]) -> None:
    """HKDF subkeys for each purpose are pinned."""
    ring = Keyring({1: bytes.fromhex(vector["master_key"])}, 1)
    assert ring.subkey(vector["purpose"]).hex() == vector["subkey"]


@pytest.mark.parametrize("vector", VECTORS["pseudonyms"], ids=lambda v: v["kind"])
def test_pseudonym_known_answers(vector: dict[str, Any]) -> None:
    """Routing and idempotency pseudonyms are pinned."""
    pseudonyms = Pseudonyms(Keyring({1: bytes.fromhex(vector["master_key"])}, 1))
    compute = pseudonyms.route if vector["kind"] == "route" else pseudonyms.idempotency
    assert compute(vector["channel"], vector["value"]).hex() == vector["pseudonym"]


def test_flipped_byte_fails() -> None:
    """Changing any byte of an envelope makes it fail to open."""
    key = bytes(32)
    sealed = envelope.seal(key, b"secret", b"t|r|f")
    for index in range(len(sealed)):
        tampered = bytearray(sealed)
        tampered[index] ^= 0x01
        with pytest.raises(DecryptionError):
            envelope.open_(key, bytes(tampered), b"t|r|f")


def test_truncated_or_unknown_format_fails() -> None:
    """A short blob or an unknown format byte is refused before decryption."""
    with pytest.raises(DecryptionError):
        envelope.open_(bytes(32), b"\x01\x00", b"ctx")
    sealed = bytearray(envelope.seal(bytes(32), b"x", b"ctx"))
    sealed[0] = 2
    with pytest.raises(DecryptionError):
        envelope.open_(bytes(32), bytes(sealed), b"ctx")


def test_data_keys_bind_fields_to_rows() -> None:
    """A field sealed for one row, field or table does not open as another."""
    keys = DataKeys(Keyring.generate())
    key = keys.new_key("conversations", "c1")
    sealed = keys.seal(key, "messages", "m1", "body", "hello")
    assert keys.open(key, "messages", "m1", "body", sealed) == "hello"
    for table, row, field in [("messages", "m2", "body"), ("messages", "m1", "note"), ("vault", "m1", "body")]:
        with pytest.raises(DecryptionError):
            keys.open(key, table, row, field, sealed)


def test_one_conversations_key_does_not_open_another() -> None:
    """Each conversation has its own data key."""
    keys = DataKeys(Keyring.generate())
    first = keys.new_key("conversations", "c1")
    second = keys.new_key("conversations", "c2")
    sealed = keys.seal(first, "messages", "m1", "body", "hello")
    with pytest.raises(DecryptionError):
        keys.open(second, "messages", "m1", "body", sealed)


def test_wrapped_key_moved_to_another_row_fails() -> None:
    """A wrapped data key copied to another conversation does not unwrap there."""
    ring = Keyring.generate()
    key = DataKeys(ring).new_key("conversations", "c1")
    moved = type(key)("conversations", "c2", key.wrapped, key.kek_version)
    with pytest.raises(DecryptionError):
        DataKeys(ring).seal(moved, "messages", "m1", "body", "x")


def test_wrong_master_key_cannot_unwrap() -> None:
    """A data key wrapped under one master key does not open under another."""
    key = DataKeys(Keyring.generate()).new_key("conversations", "c1")
    with pytest.raises(DecryptionError):
        DataKeys(Keyring.generate()).seal(key, "messages", "m1", "body", "x")


def test_key_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    """The master key file is created 0600 and a second write is refused."""
    path = tmp_path / "master.key"
    ring = Keyring.generate()
    ring.write_new(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(MasterKeyError):
        Keyring.generate().write_new(path)
    assert Keyring.load(path).kek(1) == ring.kek(1)


def test_master_key_from_environment(tmp_path: Path) -> None:
    """HELPLINE_MASTER_KEY's JSON is used instead of a key file."""
    ring = Keyring.generate()
    assert Keyring.load(tmp_path / "absent", ring.to_text()).kek(1) == ring.kek(1)


@pytest.mark.parametrize("text", ["", "{}", "not json", '{"format": "helpline-master-key", "current": 2, "keys": {}}'])
def test_malformed_key_file(text: str) -> None:
    """A malformed key is a clear MasterKeyError."""
    with pytest.raises(MasterKeyError):
        Keyring.from_text(text)


async def test_passwords() -> None:
    """argon2id verifies the right password only; an absent hash never verifies."""
    passwords = Passwords(time_cost=1, memory_kib=1024)
    hashed = await passwords.hash("a long enough password")
    assert hashed.startswith("$argon2id$")
    assert await passwords.verify(hashed, "a long enough password")
    assert not await passwords.verify(hashed, "wrong")
    assert not await passwords.verify(None, "anything")
    assert not await passwords.verify("not a hash", "anything")
