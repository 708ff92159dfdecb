"""structlog set-up: JSON lines, a redaction step on every event, tracebacks without locals.

Every event — ours and the standard-library loggers' (aiohttp, twilio) — passes through ``redact``,
which masks anything shaped like a phone number, an email address or an IP address. It is a safety net:
the code must not log identifiers in the first place; this catches what slips through.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, WrappedLogger

MASK = "[redacted]"

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
# Two or more colons between hex groups ("::1", "2001:db8::7"); clock times are masked too, harmlessly.
_IPV6 = re.compile(r"(?<![\w:])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?![\w:])", re.IGNORECASE)
# Seven or more digits, allowing the separators people and providers put in numbers (+, %2B, spaces, dots,
# dashes, brackets). Timestamps are exempt by key, not by shape.
_PHONE = re.compile(r"(?:\+|%2B)?\(?\d(?:[\s().-]?\d){6,}")
_EXEMPT_KEYS = frozenset({"timestamp"})


def redact_text(text: str) -> str:
    """Mask everything in ``text`` shaped like an email address, IP address or phone number."""
    text = _EMAIL.sub(MASK, text)
    text = _IPV6.sub(MASK, text)
    text = _IPV4.sub(MASK, text)
    return _PHONE.sub(MASK, text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


def redact(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask identifiers in every value of the event."""
    for key, value in list(event_dict.items()):
        if key not in _EXEMPT_KEYS:
            event_dict[key] = _redact_value(value)
    return event_dict


def _drop_locals(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    # stdlib records may carry positional args with message text; render then drop them.
    event_dict.pop("positional_args", None)
    return event_dict


def configure(level: str = "info", stream: TextIO | None = None) -> None:
    """Send structlog and stdlib logging, as redacted JSON lines, to ``stream`` (stderr by default)."""
    out = stream or sys.stderr
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer_chain: list[Any] = [
        structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
        redact,
        structlog.processors.JSONRenderer(),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _drop_locals, *renderer_chain],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # twilio logs request URLs and headers at INFO; aiohttp's access log carries client addresses;
    # aiosqlite logs every statement with its parameters at DEBUG.
    for noisy in ("twilio", "aiohttp.access", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A logger for one module."""
    return structlog.stdlib.get_logger(name)
