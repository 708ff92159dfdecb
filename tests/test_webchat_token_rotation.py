"""Chat tokens survive a master-key rotation: signed with the current key, verified under every key held."""

from __future__ import annotations

from datetime import timedelta

from helpline.channels.webchat.tokens import ChatTokens, HmacKey, TokenProblem
from tests.conftest import FakeClock


def test_token_from_before_a_rotation_still_verifies() -> None:
    """A chat opened under the old key keeps working once a new key is current and the old one is still held."""
    clock = FakeClock()
    before = ChatTokens(HmacKey(b"o" * 32), clock, max_age=timedelta(hours=4))
    token = before.issue()
    after = ChatTokens(HmacKey(b"n" * 32, b"o" * 32), clock, max_age=timedelta(hours=4))
    verified = after.verify(token.text)
    assert not isinstance(verified, TokenProblem)
    assert verified.address == token.address


def test_token_under_a_retired_key_is_refused() -> None:
    """Once the old key is no longer held, its tokens no longer verify."""
    clock = FakeClock()
    token = ChatTokens(HmacKey(b"o" * 32), clock, max_age=timedelta(hours=4)).issue()
    retired = ChatTokens(HmacKey(b"n" * 32), clock, max_age=timedelta(hours=4))
    assert retired.verify(token.text) is TokenProblem.FORGED


def test_new_tokens_use_the_current_key() -> None:
    """A token issued after rotation does not verify under the old key alone."""
    clock = FakeClock()
    token = ChatTokens(HmacKey(b"n" * 32, b"o" * 32), clock, max_age=timedelta(hours=4)).issue()
    assert ChatTokens(HmacKey(b"o" * 32), clock, max_age=timedelta(hours=4)).verify(token.text) is TokenProblem.FORGED
