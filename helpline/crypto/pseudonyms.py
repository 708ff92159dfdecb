"""Keyed pseudonyms: HMAC-SHA256 under HKDF subkeys, one purpose each.

A pseudonym lets the server recognise the same sender (routing) or the same provider message
(idempotency, status callbacks) without storing the identifier. Because the HMAC is keyed by the master
key, a stolen database alone cannot be brute-forced back to phone numbers. Keys are derived once, at
construction, so the hot path does no key derivation.
"""

from __future__ import annotations

import hashlib
import hmac

from helpline.crypto.keyring import Keyring


class Pseudonyms:
    """Computes the keyed pseudonyms the store keeps instead of identifiers."""

    def __init__(self, keyring: Keyring) -> None:
        self._route = keyring.subkey("pseudonym/route")
        self._idempotency = keyring.subkey("pseudonym/idempotency")
        self._provider_ref = keyring.subkey("pseudonym/provider-ref")
        self._blind_index = keyring.subkey("pseudonym/blind-index")
        self._thread = keyring.subkey("pseudonym/thread")

    def route(self, channel: str, address: str) -> bytes:
        """Who is writing, on which channel: finds the sender's open conversation."""
        return _mac(self._route, channel, address)

    def idempotency(self, channel: str, provider_message_id: str) -> bytes:
        """Which inbound provider message this is: a second delivery of it is dropped."""
        return _mac(self._idempotency, channel, provider_message_id)

    def blind_index(self, channel: str, address: str) -> bytes:
        """Finds a consented record again when its contact returns; stored only with a consented record."""
        return _mac(self._blind_index, channel, address)

    def thread(self, channel: str, reference: str) -> bytes:
        """Which conversation a reply belongs to, from a reference it quotes (an email Message-ID we sent)."""
        return _mac(self._thread, channel, reference)

    def provider_ref(self, channel: str, provider_message_id: str) -> bytes:
        """Which outbound message a provider's status callback is about."""
        return _mac(self._provider_ref, channel, provider_message_id)


def _mac(key: bytes, channel: str, value: str) -> bytes:
    # A separator that cannot appear in a channel name keeps ("a", "bc") and ("ab", "c") apart.
    return hmac.new(key, channel.encode() + b"\x00" + value.encode("utf-8"), hashlib.sha256).digest()
