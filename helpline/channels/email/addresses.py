"""Email addresses as routing and replying see them: one mailbox, checked, in one canonical form."""

from __future__ import annotations

import re

MAX_ADDRESS_CHARS = 254
# A pragmatic mailbox: no spaces, quotes, brackets or control characters, one '@', a dotted domain.
# Non-ASCII is allowed (SMTPUTF8 addresses); anything stranger is refused rather than guessed at.
_MAILBOX = re.compile(r"^[^\s@<>()\[\]\\,;:\"\x00-\x1f\x7f]{1,64}@[^\s@<>()\[\]\\,;:\"\x00-\x1f\x7f]{1,252}$")
_DOMAIN_LABEL = re.compile(r"^[^\W_](?:[\w-]{0,61}[^\W_])?$")


def normalise_address(raw: str) -> str | None:
    """The address in canonical form (trimmed, lower case), or None if it is not one usable mailbox.

    Local parts are case-sensitive in theory and never in practice; folding case keeps one contact on one
    routing pseudonym however their client capitalises the address.
    """
    address = raw.strip().lower()
    if len(address) > MAX_ADDRESS_CHARS or not _MAILBOX.match(address):
        return None
    local, _, domain = address.rpartition("@")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return None
    labels = domain.rstrip(".").split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        return None
    return f"{local}@{domain.rstrip('.')}"


def domain_of(address: str) -> str:
    """The part after the last '@'."""
    return address.rpartition("@")[2]
