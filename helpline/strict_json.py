"""Reading JSON that comes from outside (the console's API, the chat socket): only what the server can use.

``json.loads`` accepts two things the rest of the server cannot handle, and ``loads`` refuses them with a
``ValueError`` (``UnusableJsonError``), as it refuses text that is not JSON at all:

- nesting deeper than ``MAX_DEPTH``: 40,000 ``[`` make ``json.loads`` itself raise ``RecursionError``, and
  less than that would make any later recursive walk (logging, ``json.dumps``) fail instead;
- a lone surrogate (``"\\ud800"``): valid JSON text, but not Unicode — encoding it as UTF-8 fails, deep in
  whatever tries first (a password hash, the database, an encryption step).

The walk that checks a parsed value is iterative, so no input can exhaust the stack.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32
NOT_JSON = "it is not JSON"
_SURROGATE = re.compile("[\ud800-\udfff]")


class UnusableJsonError(ValueError):
    """Not JSON, nested too deep, or holding text that is not Unicode; ``reason`` says which, for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def loads(text: str | bytes) -> Any:
    """The JSON value of ``text``, or ``UnusableJsonError``."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise UnusableJsonError("it is nested too deeply") from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        raise UnusableJsonError(NOT_JSON) from None
    check(value)
    return value


def check(value: Any) -> None:
    """Refuse a parsed value nested deeper than ``MAX_DEPTH`` or holding a lone surrogate anywhere."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if not item.isascii() and _SURROGATE.search(item):
                raise UnusableJsonError("it holds text that is not valid Unicode")
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise UnusableJsonError("it is nested too deeply")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
