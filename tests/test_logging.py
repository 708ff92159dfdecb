"""Logs are JSON, carry no identifiers, and render tracebacks without local variables."""

from __future__ import annotations

import io
import json
import logging
import re
import threading

import pytest
import structlog

from helpline.log import configure, get_logger, redact_text
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


@pytest.mark.parametrize("value", ["447700900123", "07700-900-123", "ref 0770 090 0123 end", "+44 (0)7700 900123"])
def test_phone_number_in_a_string_field_is_redacted(captured_log: CapturedLog, value: str) -> None:
    """A phone number is masked in any string field, however id-like the field looks."""
    get_logger("test").info("sms.received", conversation_id=value, count=3, duplicate=False)
    line = json.loads(captured_log.lines[-1])
    assert "[redacted]" in line["conversation_id"] and not re.search(r"\d{3}", line["conversation_id"])
    assert value not in captured_log.text
    assert line["count"] == 3 and line["duplicate"] is False


def test_third_party_line_is_redacted(captured_log: CapturedLog) -> None:
    """A library's stdlib line — message, extra fields and exception — passes the same redaction."""
    try:
        raise ConnectionError("peer 203.0.113.9 reset")
    except ConnectionError:
        logging.getLogger("aiohttp.server").exception(
            "Error handling request from %s", "198.51.100.23", extra={"peer": "someone@example.org"}
        )
    line = json.loads(captured_log.lines[-1])
    assert line["event"] == "Error handling request from [redacted]"
    assert line["peer"] == "[redacted]" and line["level"] == "error"
    assert line["exception"][0]["exc_type"] == "ConnectionError"
    for identifier in ("198.51.100.23", "someone@example.org", "203.0.113.9"):
        assert identifier not in captured_log.text


def test_line_format(captured_log: CapturedLog) -> None:
    """One JSON object a line: the keywords, then event, request context, level and a UTC timestamp."""
    structlog.contextvars.bind_contextvars(request_id="r-1")
    try:
        get_logger("test").info("sms.received", conversation_id="JQisMPSVQX0LouAzvc5y1w", duplicate=False)
    finally:
        structlog.contextvars.clear_contextvars()
    [text] = captured_log.lines
    line = json.loads(text)
    assert list(line) == ["conversation_id", "duplicate", "event", "request_id", "level", "timestamp"]
    assert line["conversation_id"] == "JQisMPSVQX0LouAzvc5y1w" and line["event"] == "sms.received"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z", line["timestamp"])
    assert text.startswith('{"conversation_id": "JQisMPSVQX0LouAzvc5y1w", "duplicate": false, "event"')


def test_level_filtering_applies_to_both_roads() -> None:
    """Below the configured level, neither our lines nor the libraries' are written."""
    stream = io.StringIO()
    configure("warning", stream)
    get_logger("test").info("quiet")
    get_logger("test").debug("quieter")
    logging.getLogger("some.library").info("quiet too")
    get_logger("test").warning("loud")
    logging.getLogger("some.library").error("loud too")
    assert [json.loads(line)["event"] for line in stream.getvalue().splitlines()] == ["loud", "loud too"]


def test_loggers_made_before_configure_follow_it() -> None:
    """Modules make their loggers at import; each configure call redirects them."""
    logger = get_logger("made.early")
    first, second = io.StringIO(), io.StringIO()
    configure("info", first)
    logger.info("one")
    configure("info", second)
    logger.info("two")
    assert json.loads(first.getvalue())["event"] == "one"
    assert json.loads(second.getvalue())["event"] == "two"


def test_positional_arguments_are_dropped(captured_log: CapturedLog) -> None:
    """%-style arguments never reach the line: values belong in keywords, where redaction sees them."""
    get_logger("test").info("got %s", "CANARY-POSITIONAL")
    assert json.loads(captured_log.lines[-1])["event"] == "got %s"
    assert "CANARY-POSITIONAL" not in captured_log.text


def test_a_line_that_cannot_be_rendered_does_not_raise(
    captured_log: CapturedLog, capsys: pytest.CaptureFixture[str]
) -> None:
    """Like a stdlib handler, a failed line is reported on stderr and the caller carries on."""
    get_logger("test").info("odd", table={(1, 2): "tuple keys are not JSON"})
    assert captured_log.text == ""
    assert "Logging error" in capsys.readouterr().err
    get_logger("test").info("fine")
    assert json.loads(captured_log.lines[-1])["event"] == "fine"


def test_lines_from_threads_stay_whole(captured_log: CapturedLog) -> None:
    """Our lines and the libraries' lines, written from several threads at once, never interleave."""

    def write_lines(n: int) -> None:
        for i in range(200):
            get_logger("test").info("ours", thread=n, i=i)
            logging.getLogger("some.library").info("theirs %d", i)

    threads = [threading.Thread(target=write_lines, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events = [json.loads(line)["event"] for line in captured_log.lines]
    assert len(events) == 4 * 200 * 2 and events.count("ours") == 4 * 200
