"""structlog set-up: JSON lines, a redaction step on every event, tracebacks without locals or messages.

Every event — ours and the standard-library loggers' (aiohttp, twilio) — passes through ``redact``,
which masks anything shaped like a phone number, an email address or an IP address. It is a safety net:
the code must not log identifiers in the first place; this catches what slips through.

Two roads lead to the same stream, through the same processors (see ``configure``):

* our own ``get_logger`` loggers: structlog renders the line and ``_Sink`` writes it straight to the
  stream. This is the busy road (a line or two per message), so it skips the standard library's
  LogRecord and Formatter, and drops events below the level before doing any work;
* the standard library's loggers (aiohttp, twilio, ...): a ``logging.StreamHandler`` on the root logger
  with structlog's ``ProcessorFormatter``.

Both write under the handler's lock, so lines from different threads never interleave.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, Processor, WrappedLogger

MASK = "[redacted]"

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
# Two or more colons between hex groups ("::1", "2001:db8::7"); clock times are masked too, harmlessly.
_IPV6 = re.compile(r"(?<![\w:])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?![\w:])", re.IGNORECASE)
# Seven or more digits, allowing the separators people and providers put in numbers (+, %2B, spaces, dots,
# dashes, brackets). Timestamps are exempt by key, not by shape.
_PHONE = re.compile(r"(?:\+|%2B)?\(?\d(?:[\s().-]?\d){6,}")
_EXEMPT_KEYS = frozenset({"timestamp"})
# The guard for _PHONE: seven digits, at most one separator apart, which every phone match contains. It
# finds them (or finds there are none) faster than _PHONE because it starts with a digit.
_SEVEN_DIGITS = re.compile(r"\d(?:[\s().-]?\d){6}")


def redact_text(text: str) -> str:
    """Mask everything in ``text`` shaped like an email address, IP address or phone number."""
    # Each pattern runs only if the text has something every match of it contains (the guards below), so the
    # result is the same as running all four, without the regex runs that cannot find anything: event names
    # and most ids pass with a few quick checks. If you change a pattern, make sure its guard still holds
    # (tests/test_log_redaction.py compares this with running every pattern).
    if "@" in text or "%40" in text:
        text = _EMAIL.sub(MASK, text)
    if ":" in text:
        text = _IPV6.sub(MASK, text)
    if "." in text:
        text = _IPV4.sub(MASK, text)
    if _SEVEN_DIGITS.search(text):
        text = _PHONE.sub(MASK, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, int | float):  # bool is an int; numbers are written as they are
        return value
    if isinstance(value, Mapping):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


def redact(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask identifiers in every value of the event."""
    for key, value in event_dict.items():
        if key not in _EXEMPT_KEYS:
            event_dict[key] = _redact_value(value)  # replacing a key's value while iterating is allowed
    return event_dict


def _drop_locals(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    # stdlib records may carry positional args with message text; render then drop them.
    event_dict.pop("positional_args", None)
    return event_dict


_EXCEPTION_TEXT = ("exc_value", "exc_notes", "syntax_error")


def _drop_exception_text(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: keep a rendered exception's type and frames, never its message or notes.

    An exception's text can quote what the request sent (a parser error holds the first bytes of a form
    body), so it is dropped for every exception, ours and the libraries', chained and grouped ones included.
    """
    stacks = event_dict.get("exception")
    if isinstance(stacks, list):
        pending = list(stacks)
        while pending:
            stack = pending.pop()
            if isinstance(stack, dict):
                for key in _EXCEPTION_TEXT:
                    stack.pop(key, None)
                for group in stack.get("exceptions") or ():
                    pending.extend(group if isinstance(group, list) else [group])
    return event_dict


class _TimeStamper:
    """structlog processor: ``timestamp`` in UTC, ISO 8601 with microseconds and "Z".

    The same text as ``structlog.processors.TimeStamper(fmt="iso", utc=True)``, e.g.
    "2026-03-02T09:00:00.123456Z" (or "2026-03-02T09:00:00Z" on the exact second, as ``isoformat`` does),
    but the date and time up to the second are formatted once per second instead of on every line.
    """

    def __init__(self, clock: Callable[[], int] = time.time_ns) -> None:
        self._clock = clock  # nanoseconds since the Unix epoch
        self._cached: tuple[int, str] = (-1, "")  # a whole second (Unix time) and its text

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        second, microsecond = divmod(self._clock() // 1000, 1_000_000)
        cached = self._cached  # one read and one write of a tuple: safe when threads log at once
        if cached[0] != second:
            text = datetime.datetime.fromtimestamp(second, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
            cached = self._cached = (second, text)
        event_dict["timestamp"] = f"{cached[1]}.{microsecond:06d}Z" if microsecond else f"{cached[1]}Z"
        return event_dict


def _json_default(value: Any) -> Any:
    # What structlog's JSONRenderer does with a value json cannot write: its __structlog__(), else repr().
    try:
        return value.__structlog__()
    except AttributeError:
        return repr(value)


class _JSONRenderer:
    """structlog processor: the event as one JSON line, exactly as ``structlog.processors.JSONRenderer()``.

    It keeps one encoder instead of building one per line, which is what ``json.dumps(..., default=...)``
    does.
    """

    def __init__(self) -> None:
        self._encoder = json.JSONEncoder(default=_json_default)

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> str:
        return self._encoder.encode(event_dict)


class _Sink:
    """Where our loggers' rendered lines go: the root handler's stream, written as that handler would.

    It is structlog's "wrapped logger" (every logger name gets this one object) and carries the level
    below which ``Logger`` drops events.
    """

    def __init__(self, handler: logging.StreamHandler[TextIO], level: int) -> None:
        self.handler = handler
        self.level = level

    def __call__(self, *logger_factory_args: Any) -> _Sink:
        """structlog's logger factory: every logger, whatever its name, writes here."""
        return self

    def write(self, line: str) -> None:
        """Write one line and flush, under the handler's lock, as ``StreamHandler.emit`` does."""
        handler = self.handler
        handler.acquire()
        try:
            handler.stream.write(line + handler.terminator)
            handler.stream.flush()
        finally:
            handler.release()

    def report_error(self) -> None:
        """Call from an ``except`` block: report a line that could not be logged, as the handler would."""
        self.handler.handleError(logging.makeLogRecord({"msg": "a structlog event could not be logged"}))


class Logger(structlog.BoundLoggerBase):
    """What ``get_logger`` gives: ``log.info("event", key=value)`` writes one redacted JSON line.

    Events below the configured level are dropped before anything is rendered. Positional arguments
    (``log.info("got %s", x)``) are dropped too: %-style text could carry a message's words, which redaction
    would not catch, so put values in keywords. A line that cannot be rendered or written is reported on
    stderr and never raises into the caller, as with the standard library's handlers.
    """

    _logger: _Sink

    def _log(self, level: int, method_name: str, event: str | None, kw: dict[str, Any]) -> None:
        sink = self._logger
        if level < sink.level:
            return
        try:
            # The processors (see configure) end in _JSONRenderer, so the result is ((line,), {}).
            args, _ = self._process_event(method_name, event, kw)
            sink.write(args[0])
        except structlog.DropEvent:
            return
        except Exception:  # noqa: BLE001 - logging must never break the code that logs
            sink.report_error()

    def debug(self, event: str | None = None, *args: Any, **kw: Any) -> None:
        self._log(logging.DEBUG, "debug", event, kw)

    def info(self, event: str | None = None, *args: Any, **kw: Any) -> None:
        self._log(logging.INFO, "info", event, kw)

    def warning(self, event: str | None = None, *args: Any, **kw: Any) -> None:
        self._log(logging.WARNING, "warning", event, kw)

    warn = warning

    def error(self, event: str | None = None, *args: Any, **kw: Any) -> None:
        self._log(logging.ERROR, "error", event, kw)

    def exception(self, event: str | None = None, *args: Any, **kw: Any) -> None:
        """``error`` with the exception being handled, rendered as a traceback without local variables."""
        kw.setdefault("exc_info", True)
        self._log(logging.ERROR, "exception", event, kw)  # add_log_level writes "error"

    def critical(self, event: str | None = None, *args: Any, **kw: Any) -> None:
        self._log(logging.CRITICAL, "critical", event, kw)

    fatal = critical

    def log(self, level: int, event: str | None = None, *args: Any, **kw: Any) -> None:
        self._log(level, logging.getLevelName(level).lower(), event, kw)


def configure(level: str = "info", stream: TextIO | None = None) -> None:
    """Send structlog and stdlib logging, as redacted JSON lines, to ``stream`` (stderr by default)."""
    out = stream or sys.stderr
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        _TimeStamper(),
    ]
    renderer_chain: list[Processor] = [
        _drop_locals,
        structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
        _drop_exception_text,
        redact,
        _JSONRenderer(),
    ]
    # The standard library's loggers: the root handler formats their records with the same processors.
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer_chain],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Our loggers: the same processors, rendered by structlog itself, then written by _Sink to the handler's
    # stream. The level is the root logger's, which is what filtered them when they went through stdlib.
    structlog.configure(
        processors=[*shared, *renderer_chain],
        logger_factory=_Sink(handler, root.level),
        wrapper_class=Logger,
        # Loggers are made at import, before configure runs (and tests configure once per test), so each
        # call looks the configuration up afresh.
        cache_logger_on_first_use=False,
    )
    # twilio logs request URLs and headers at INFO; aiohttp's access log carries client addresses;
    # aiosqlite logs every statement with its parameters at DEBUG.
    for noisy in ("twilio", "aiohttp.access", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str) -> Logger:
    """A logger for one module."""
    # structlog's proxy builds a Logger from the current configuration on each call.
    logger: Logger = structlog.get_logger(name)
    return logger
