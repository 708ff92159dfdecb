"""How a regular expression's matches can begin, read from the expression's parsed form.

The risk scanner uses it to try, at each word start, only the lexicon rules that could match there.
``starts(pattern, length)`` gives the strings every match begins with: a match must begin with a
``length``-character string exactly, or with a shorter string followed by anything. ``None`` means it
cannot tell (a class like ``\\w`` first, a flag group, an expression that can match nothing, too many
possibilities): that only costs speed, never a match, because such a rule is tried everywhere.

Digits are spelt ``0``: ``\\d``, ``[0-9]`` and a literal ``7`` all begin ``0``, because ``\\d`` also matches
digits of other scripts (``٣``) that could never all be listed. Whoever looks beginnings up in a text
must spell the text's digits the same way, with ``key``. Lookarounds (``(?<!if )``) match no characters
and only ever rule matches out, so they are passed over: the beginnings found are a superset, still safe.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sre_constants as _constants
    import sre_parse as _parser
else:  # the same modules under their current names; the old names warn when imported
    from re import _constants, _parser

PREFIX = 2
# Ranges wider than this (e.g. every letter of a script) are not worth listing character by character.
_MAX_RANGE = 64
# More possible beginnings than this and the rule is simply tried everywhere.
_MAX_STARTS = 512
# Every character ``\d`` matches (any script's decimal digits), for ``key``.
_DIGIT = re.compile(r"\d")
# Items that match no characters: ``\b``, ``^``, ``$`` and lookarounds.
_ZERO_WIDTH = frozenset({_constants.AT, _constants.ASSERT, _constants.ASSERT_NOT})

# A beginning seen so far: its characters, and whether the expression may stop right there (True) or
# goes on with characters that could not be worked out (False).
_Start = tuple[str, bool]


class _CannotTellError(Exception):
    """The beginnings cannot be worked out."""


def key(text: str) -> str:
    """``text`` with every digit spelt ``0``, as beginnings spell them: look a text's beginnings up in this."""
    return _DIGIT.sub("0", text)


def starts(pattern: str, length: int = PREFIX) -> frozenset[str] | None:
    """The beginnings, at most ``length`` characters, every match of ``pattern`` has (see above), or None."""
    try:
        return checked_starts(pattern, length)
    except Exception:  # noqa: BLE001 - unreadable here means "cannot tell", which is always safe
        return None


def checked_starts(pattern: str, length: int = PREFIX) -> frozenset[str] | None:
    """``starts``, but a pattern that is not a valid regular expression raises ``re.error`` (as compiling it)."""
    parsed = _parser.parse(pattern)
    try:
        found = _Reader(length).sequence(parsed.data, {("", True)})
    except _CannotTellError:
        return None
    except Exception:  # noqa: BLE001 - a form not foreseen here means "cannot tell", which is always safe
        return None
    beginnings = frozenset(text for text, _ in found)
    return None if "" in beginnings else beginnings


class _Reader:
    """Walks a parsed expression, following beginnings up to ``length`` characters."""

    def __init__(self, length: int) -> None:
        self._length = length

    def sequence(self, items: list[tuple[Any, Any]], current: set[_Start]) -> set[_Start]:
        for op, arg in items:
            if op in _ZERO_WIDTH:
                continue
            if all(not self._open(text, may_stop) for text, may_stop in current):
                break
            current = self._item(op, arg, current)
        return current

    def _open(self, text: str, may_stop: bool) -> bool:
        """Whether this beginning still grows with the characters that come next."""
        return may_stop and len(text) < self._length

    def _extend(self, current: set[_Start], item: set[_Start]) -> set[_Start]:
        out: set[_Start] = set()
        for text, may_stop in current:
            if not self._open(text, may_stop):
                out.add((text, may_stop))
                continue
            for more, more_may_stop in item:
                joined = text + more
                full = len(joined) >= self._length
                out.add((joined[: self._length], True) if full else (joined, more_may_stop))
        if len(out) > _MAX_STARTS:
            raise _CannotTellError
        return out

    def _item(self, op: Any, arg: Any, current: set[_Start]) -> set[_Start]:
        if op is _constants.LITERAL:
            return self._extend(current, {(_spelt(chr(arg)), True)})
        if op is _constants.IN:
            chars = _in(arg)
            return self._unknown(current) if chars is None else self._extend(current, {(c, True) for c in chars})
        if op is _constants.SUBPATTERN:
            _group, add_flags, del_flags, sub = arg
            if add_flags or del_flags:
                raise _CannotTellError
            return self.sequence(sub.data, current)
        if op is _constants.BRANCH:
            out: set[_Start] = set()
            for branch in arg[1]:
                out |= self.sequence(branch.data, set(current))
            if len(out) > _MAX_STARTS:
                raise _CannotTellError
            return out
        if op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT, _constants.POSSESSIVE_REPEAT):
            low, _high, sub = arg
            # One pass of the body; what comes after it (more of the body, or the rest) is not followed.
            once = {
                (text, may_stop and len(text) >= self._length) for text, may_stop in self.sequence(sub.data, current)
            }
            return once | current if low == 0 else once
        return self._unknown(current)

    def _unknown(self, current: set[_Start]) -> set[_Start]:
        """Something whose characters cannot be listed (``\\w``, ``.``): what was open stays open."""
        if any(self._open(text, may_stop) for text, may_stop in current):
            if all(text == "" for text, _ in current):
                raise _CannotTellError
            return {(text, len(text) >= self._length) for text, may_stop in current}
        return current


def _spelt(char: str) -> str:
    """A character as beginnings spell it: digits as ``0`` (see the module docstring)."""
    return "0" if _DIGIT.fullmatch(char) else char


def _in(members: list[tuple[Any, Any]]) -> set[str] | None:
    found: set[str] = set()
    for op, arg in members:
        if op is _constants.LITERAL:
            found.add(_spelt(chr(arg)))
        elif op is _constants.RANGE and arg[1] - arg[0] <= _MAX_RANGE:
            found.update(_spelt(chr(code)) for code in range(arg[0], arg[1] + 1))
        elif op is _constants.CATEGORY and arg is _constants.CATEGORY_DIGIT:
            found.add("0")
        else:  # a negated set, another category such as \w, a wide range
            return None
    return found
