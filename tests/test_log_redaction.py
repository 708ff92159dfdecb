"""The shortcuts in helpline.log change nothing: the same masking, the same timestamps.

``redact_text`` skips a pattern when the text lacks something every match of it contains; these tests
compare it with running every pattern, on text built from the characters the patterns care about.
"""

from __future__ import annotations

import datetime

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from helpline import log

PROPERTY = hypothesis_settings(
    max_examples=1000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

# Digits (ASCII and others that \d matches), separators, the email, IP and URL-encoding characters, letters
# (hex and not), and whole pieces that match.
PIECES = st.sampled_from(
    [
        *"0123456789", "\u0663", "\uff17", " ", "\t", "\n", "(", ")", ".", "-", "+", "%", "2B", "%2B", "%40",
        "@", ":", "::", "a", "F", "x", "Z", "_", "!", "é", "[redacted]", "+447700900123", "07700 900123",
        "(555) 010-9999", "someone@example.org", "203.0.113.7", "2001:db8::7", "12:30:01", "1.2.3",
    ]
)  # fmt: skip
TEXT = st.lists(PIECES, max_size=30).map("".join)


def redact_every_pattern(text: str) -> str:
    """redact_text without its shortcuts: every pattern, in order."""
    for pattern in (log._EMAIL, log._IPV6, log._IPV4, log._PHONE):
        text = pattern.sub(log.MASK, text)
    return text


@PROPERTY
@given(TEXT)
def test_redact_text_matches_running_every_pattern(text: str) -> None:
    assert log.redact_text(text) == redact_every_pattern(text)


@PROPERTY
@given(st.text(max_size=40))
def test_redact_text_matches_running_every_pattern_on_any_text(text: str) -> None:
    assert log.redact_text(text) == redact_every_pattern(text)


def test_numbers_and_ids_pass_unchanged() -> None:
    """What cannot carry an address comes out as it went in."""
    event = {"count": 12, "ratio": 0.5, "ok": True, "none": None, "id": "JQisMPSVQX0LouAzvc5y1w", "event": "a.b"}
    assert log.redact(None, "info", dict(event)) == event


def isoformat_utc(nanoseconds: int) -> str:
    """What structlog's TimeStamper(fmt="iso", utc=True) writes for this instant."""
    when = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(microseconds=nanoseconds // 1000)
    return when.isoformat().replace("+00:00", "Z")


def test_timestamps_match_structlogs_iso_format() -> None:
    """The cached timestamper writes what TimeStamper(fmt="iso", utc=True) writes, across seconds."""
    instants = [
        1_772_442_000_000_000_000,  # exactly on a second: no fraction, as isoformat does
        1_772_442_000_000_000_999,  # under a microsecond past it: still none
        1_772_442_000_000_001_000,
        1_772_442_000_123_456_789,
        1_772_442_000_999_999_999,
        1_772_442_001_000_000_001,  # the next second
        1_772_441_999_500_000_000,  # back to the one before (another thread's clock read)
        1_798_761_599_999_999_000,  # the last microsecond of 2026
        1_798_761_600_000_000_000,
    ]
    clock = iter(instants)
    stamper = log._TimeStamper(clock=lambda: next(clock))
    for instant in instants:
        assert stamper(None, "info", {})["timestamp"] == isoformat_utc(instant)
