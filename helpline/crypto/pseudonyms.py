"""Keyed pseudonyms: HMAC-SHA256 under HKDF subkeys, one purpose each.

A pseudonym lets the server recognise the same sender (routing) or the same provider message
(idempotency, status callbacks) without storing the identifier. Because the HMAC is keyed by the master
key, a stolen database alone cannot be brute-forced back to phone numbers. Each subkey is derived once per
master key version and kept, so the hot path does no key derivation.

New pseudonyms are made under the current master key version. After ``helpline keys rotate`` adds a version,
finding what was stored before needs the older versions too: the ``*_candidates`` methods give the pseudonym
under every version the keyring still holds, current first. Once a version is retired, what was stored
under it no longer matches (SECURITY.md, "Key rotation", says what that means for each kind).
"""

from __future__ import annotations

import hashlib
import hmac

from helpline.crypto.keyring import Keyring


class Pseudonyms:
    """Computes the keyed pseudonyms the store keeps instead of identifiers."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._subkeys: dict[tuple[str, int], bytes] = {}

    def route(self, channel: str, address: str) -> bytes:
        """Who is writing, on which channel: finds the sender's open conversation."""
        return self._mac("route", self._keyring.current_version, channel, address)

    def idempotency(self, channel: str, provider_message_id: str) -> bytes:
        """Which inbound provider message this is: a second delivery of it is dropped."""
        return self._mac("idempotency", self._keyring.current_version, channel, provider_message_id)

    def blind_index(self, channel: str, address: str) -> bytes:
        """Finds a consented record again when its contact returns; stored only with a consented record."""
        return self._mac("blind-index", self._keyring.current_version, channel, address)

    def thread(self, channel: str, reference: str) -> bytes:
        """Which conversation a reply belongs to, from a reference it quotes (an email Message-ID we sent)."""
        return self._mac("thread", self._keyring.current_version, channel, reference)

    def provider_ref(self, channel: str, provider_message_id: str) -> bytes:
        """Which outbound message a provider's status callback is about."""
        return self._mac("provider-ref", self._keyring.current_version, channel, provider_message_id)

    def sign_in(self, kind: str, value: str) -> bytes:
        """Keys a sign-in counter for a username or a network; short-lived, so only the current version."""
        return self._mac("sign-in", self._keyring.current_version, kind, value)

    def route_candidates(self, channel: str, address: str) -> tuple[bytes, ...]:
        """The route pseudonym under every master key version held, current first."""
        return self._every("route", channel, address)

    def idempotency_candidates(self, channel: str, provider_message_id: str) -> tuple[bytes, ...]:
        """The idempotency key under every master key version held, current first."""
        return self._every("idempotency", channel, provider_message_id)

    def blind_index_candidates(self, channel: str, address: str) -> tuple[bytes, ...]:
        """The blind index under every master key version held, current first."""
        return self._every("blind-index", channel, address)

    def thread_candidates(self, channel: str, reference: str) -> tuple[bytes, ...]:
        """The thread key under every master key version held, current first."""
        return self._every("thread", channel, reference)

    def _every(self, purpose: str, channel: str, value: str) -> tuple[bytes, ...]:
        current = self._keyring.current_version
        older = sorted((v for v in self._keyring.versions if v != current), reverse=True)
        return tuple(self._mac(purpose, version, channel, value) for version in (current, *older))

    def _mac(self, purpose: str, version: int, channel: str, value: str) -> bytes:
        key = self._subkeys.get((purpose, version))
        if key is None:
            key = self._subkeys[(purpose, version)] = self._keyring.subkey(f"pseudonym/{purpose}", version)
        return _mac(key, channel, value)


def _mac(key: bytes, channel: str, value: str) -> bytes:
    # A separator that cannot appear in a channel name keeps ("a", "bc") and ("ab", "c") apart.
    return hmac.new(key, channel.encode() + b"\x00" + value.encode("utf-8"), hashlib.sha256).digest()
