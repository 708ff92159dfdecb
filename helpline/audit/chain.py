"""The audit hash chain.

Each entry's hash is ``SHA-256(previous hash || canonical JSON of the entry)``; the first entry's
previous hash is 32 zero bytes. Editing, deleting or reordering any entry changes every hash after it,
so ``verify`` names the first entry that does not match. Keep the head hash somewhere else to detect
a rewrite of the whole chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from helpline.audit.events import AuditEntry
from helpline.clock import to_text

GENESIS = bytes(32)


def canonical(entry: AuditEntry) -> bytes:
    """The bytes an entry's hash covers."""
    body = {
        "at": to_text(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "object": entry.object_id,
        "detail": entry.detail,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def link(previous: bytes, entry: AuditEntry) -> bytes:
    """The hash of ``entry`` following an entry whose hash is ``previous``."""
    return hashlib.sha256(previous + canonical(entry)).digest()


@dataclass(frozen=True)
class StoredAuditRow:
    """An audit row as read back: its sequence number, entry, and the hashes stored with it."""

    seq: int
    entry: AuditEntry
    prev_hash: bytes
    hash: bytes


def first_bad(rows: Iterable[StoredAuditRow]) -> int | None:
    """The sequence number of the first row that breaks the chain, or None if the chain holds."""
    previous = GENESIS
    expected_seq = 1
    for row in rows:
        if row.seq != expected_seq:
            return expected_seq  # a missing (deleted) entry
        if row.prev_hash != previous or row.hash != link(previous, row.entry):
            return row.seq
        previous = row.hash
        expected_seq += 1
    return None
