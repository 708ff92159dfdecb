"""How a regular expression's matches can begin, read from the expression's parsed form.

The risk scanner uses it to try, at each word start, only the lexicon rules that could match there.
``starts(pattern)`` gives the strings every match begins with: a match must begin with a two-character
string exactly, or with a one-character string followed by anything. ``None`` means it cannot tell (a
class like ``\\w`` first, a lookahead, a flag group, an expression that can match nothing, too many
possibilities): that only costs speed, never a match, because such a rule is tried everywhere.
"""

from __future__ import annotations

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

# A beginning seen so far: its characters, and whether the expression may stop right there (True) or
# goes on with characters that could not be worked out (False).
_Start = tuple[str, bool]


class _CannotTellError(Exception):
    """The beginnings cannot be worked out."""


def starts(pattern: str) -> frozenset[str] | None:
    """The beginnings every match of ``pattern`` has (see the module docstring), or None."""
    try:
        found = _sequence(_parser.parse(pattern).data, {("", True)})
    except _CannotTellError:
        return None
    except Exception:  # noqa: BLE001 - unreadable here means "cannot tell", which is always safe
        return None
    beginnings = frozenset(text for text, _ in found)
    return None if "" in beginnings else beginnings


def _extend(current: set[_Start], item: set[_Start]) -> set[_Start]:
    out: set[_Start] = set()
    for text, may_stop in current:
        if len(text) >= PREFIX or not may_stop:
            out.add((text, may_stop))
            continue
        for more, more_may_stop in item:
            joined = text + more
            out.add((joined[:PREFIX], True) if len(joined) >= PREFIX else (joined, more_may_stop))
    if len(out) > _MAX_STARTS:
        raise _CannotTellError
    return out


def _sequence(items: list[tuple[Any, Any]], current: set[_Start]) -> set[_Start]:
    for op, arg in items:
        if op is _constants.AT:  # \b, ^, $: zero width
            continue
        if all(len(text) >= PREFIX or not may_stop for text, may_stop in current):
            break
        current = _item(op, arg, current)
    return current


def _item(op: Any, arg: Any, current: set[_Start]) -> set[_Start]:
    if op is _constants.LITERAL:
        return _extend(current, {(chr(arg), True)})
    if op is _constants.IN:
        chars = _in(arg)
        return _unknown(current) if chars is None else _extend(current, {(char, True) for char in chars})
    if op is _constants.SUBPATTERN:
        _group, add_flags, del_flags, sub = arg
        if add_flags or del_flags:
            raise _CannotTellError
        return _sequence(sub.data, current)
    if op is _constants.BRANCH:
        out: set[_Start] = set()
        for branch in arg[1]:
            out |= _sequence(branch.data, set(current))
        if len(out) > _MAX_STARTS:
            raise _CannotTellError
        return out
    if op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT, _constants.POSSESSIVE_REPEAT):
        low, _high, sub = arg
        # One pass of the body; what comes after it (more of the body, or the rest) is not followed.
        once = {(text, may_stop and len(text) >= PREFIX) for text, may_stop in _sequence(sub.data, current)}
        return once | current if low == 0 else once
    return _unknown(current)


def _unknown(current: set[_Start]) -> set[_Start]:
    """Something whose characters cannot be listed (``\\w``, a lookaround): what was open stays open."""
    if any(len(text) < PREFIX and may_stop for text, may_stop in current):
        if all(text == "" for text, _ in current):
            raise _CannotTellError
        return {(text, len(text) >= PREFIX) for text, may_stop in current}
    return current


def _in(members: list[tuple[Any, Any]]) -> set[str] | None:
    found: set[str] = set()
    for op, arg in members:
        if op is _constants.LITERAL:
            found.add(chr(arg))
        elif op is _constants.RANGE and arg[1] - arg[0] <= _MAX_RANGE:
            found.update(chr(code) for code in range(arg[0], arg[1] + 1))
        else:  # a negated set, a category such as \d, a wide range
            return None
    return found
