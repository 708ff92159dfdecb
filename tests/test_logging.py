"""Logs are JSON, carry no identifiers, and render tracebacks without local variables."""

from __future__ import annotations

import json
import logging

import pytest

from helpline.log import get_logger, redact_text
from tests.conftest import CapturedLog


@pytest.mark.parametrize(
    "identifier",
    [
        "+447700900123",
        "07700 900123",
        "%2B447700900123",
        "(555) 010-9999",
        "someone@example.org",
        "someone%40example.org",
        "203.0.113.7",
        "2001:db8::7",
        "::1",
    ],
)
def test_redaction_masks_identifiers(identifier: str) -> None:
    """Anything shaped like a phone number, email or IP address is masked."""
    assert identifier not in redact_text(f"before {identifier} after")


def test_structlog_event_is_redacted(captured_log: CapturedLog) -> None:
    """An identifier passed to a logger by mistake is masked in the JSON line."""
    get_logger("test").info("oops", detail="from +447700900123 at 198.51.100.4", nested={"mail": "a@b.org"})
    line = json.loads(captured_log.lines[-1])
    assert line["event"] == "oops"
    assert "447700900123" not in captured_log.text
    assert "198.51.100.4" not in captured_log.text and "a@b.org" not in captured_log.text


def test_stdlib_logging_is_redacted(captured_log: CapturedLog) -> None:
    """Third-party libraries logging through the standard library pass the same redaction."""
    logging.getLogger("some.library").warning("connecting to %s for %s", "192.0.2.10", "+15005550006")
    assert "192.0.2.10" not in captured_log.text and "15005550006" not in captured_log.text
    assert json.loads(captured_log.lines[-1])["level"] == "warning"


def test_tracebacks_have_no_locals(captured_log: CapturedLog) -> None:
    """An exception's traceback is logged without the values of local variables."""

    def fails() -> None:
        secret_body = "CANARY-LOCAL-TEXT"
        raise ValueError(len(secret_body))

    try:
        fails()
    except ValueError:
        get_logger("test").exception("failed")
    assert "CANARY-LOCAL-TEXT" not in captured_log.text
    assert "ValueError" in captured_log.text


def test_noisy_libraries_are_quiet(captured_log: CapturedLog) -> None:
    """twilio's and aiosqlite's INFO/DEBUG lines (URLs, SQL parameters) are not logged."""
    logging.getLogger("twilio.http_client").info("POST /Accounts/AC1/Messages.json To=+447700900123")
    logging.getLogger("aiosqlite").debug("executing INSERT with params")
    assert captured_log.text == ""
