"""The AES-256-GCM envelope every ciphertext at rest is stored in.

Layout (bytes)::

    0       format (0x01)
    1..4    key version, big-endian: the master key version for wrapped keys, 0 for a row's own data key
    5..16   random 96-bit nonce
    17..    ciphertext || 16-byte tag

The associated data is ``b"helpline/1|" + header + b"|" + context``: the header binds the format and key
version, and the context names the table, row and field, so a ciphertext copied to another row, field or
table does not decrypt. Pinned by known-answer vectors in ``tests/data/crypto-vectors.json``.
"""

from __future__ import annotations

import secrets
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from helpline.errors import DecryptionError

FORMAT = 1
NONCE_BYTES = 12
_HEADER = struct.Struct(">BI")
_PREFIX = _HEADER.size + NONCE_BYTES


def context(table: str, row_id: str, field: str) -> bytes:
    """The context that binds a ciphertext to its place."""
    return f"{table}|{row_id}|{field}".encode()


def seal(key: bytes, plaintext: bytes, ctx: bytes, *, key_version: int = 0, nonce: bytes | None = None) -> bytes:
    """Encrypt ``plaintext`` for the place named by ``ctx``. ``nonce`` is for known-answer tests only."""
    header = _HEADER.pack(FORMAT, key_version)
    nonce = nonce if nonce is not None else secrets.token_bytes(NONCE_BYTES)
    return header + nonce + AESGCM(key).encrypt(nonce, plaintext, _aad(header, ctx))


def key_version(blob: bytes) -> int:
    """The key version written in an envelope's header."""
    if len(blob) < _PREFIX:
        raise DecryptionError("ciphertext too short")
    fmt, version = _HEADER.unpack_from(blob)
    if fmt != FORMAT:
        raise DecryptionError("unknown envelope format")
    return int(version)


def open_(key: bytes, blob: bytes, ctx: bytes) -> bytes:
    """Decrypt an envelope sealed for ``ctx``; raise DecryptionError if anything about it is wrong."""
    key_version(blob)
    header, nonce, body = blob[: _HEADER.size], blob[_HEADER.size : _PREFIX], blob[_PREFIX:]
    try:
        return AESGCM(key).decrypt(nonce, body, _aad(header, ctx))
    except InvalidTag:
        raise DecryptionError("ciphertext did not authenticate") from None


def _aad(header: bytes, ctx: bytes) -> bytes:
    return b"helpline/1|" + header + b"|" + ctx
