"""Trimming what a reply repeats: quoted history and the signature below the contact's own words.

The conversation already holds every earlier message, so the history a mail client appends to a reply
is noise for the volunteer, and a signature can name the contact or their workplace without them meaning
to tell us. The rules, in order:

1. An "original message" separator (Outlook and friends: ``-----Original Message-----``, or a line of
   underscores followed by a ``From:`` header block) ends the text: everything from it on goes.
2. An attribution line ("On <date>, <name> wrote:", also split over two lines, in the languages mail
   clients commonly write it) goes with the block of ``>``-quoted lines below it. Text after that block
   stays: some people write below the quote.
3. A final block of ``>``-quoted lines goes.
4. A signature — from the last line that is exactly ``-- `` (RFC 3676) — goes.

If trimming would leave nothing, the text is kept whole: losing words from someone in crisis is worse
than showing a volunteer some history.
"""

from __future__ import annotations

import re

_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(original message|forwarded message|ursprüngliche nachricht|message d'origine|"
    r"mensaje original|messaggio originale|oorspronkelijk bericht)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_HEADER_BLOCK = re.compile(r"^\s*\*?(from|von|de|van|da)\s*:\*?\s", re.IGNORECASE)
_ATTRIBUTION_START = re.compile(r"^\s*(on|le|am|el|il|op|w dniu|den|em)\s", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(
    r"(wrote|a écrit|schrieb|escribió|ha scritto|schreef|pisze|skrev|escreveu)\s*:\s*$", re.IGNORECASE
)
_MAX_ATTRIBUTION_CHARS = 400


def trim_reply(text: str) -> str:
    """The contact's own words, without the quoted history and signature below them."""
    lines = text.split("\n")
    trimmed = _drop_signature(_drop_final_quote(_drop_attributed_quotes(_cut_at_separator(lines))))
    result = "\n".join(trimmed).strip()
    return result if result else text.strip()


def _quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _cut_at_separator(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if _SEPARATOR.match(line):
            return lines[:index]
        if _UNDERSCORES.match(line) and any(_HEADER_BLOCK.match(n) for n in lines[index + 1 : index + 3]):
            return lines[:index]
    return lines


def _attribution_length(lines: list[str], index: int) -> int:
    """How many lines (1 or 2) the attribution starting at ``index`` spans, or 0 if there is none."""
    first = lines[index]
    if not _ATTRIBUTION_START.match(first) or len(first) > _MAX_ATTRIBUTION_CHARS:
        return 0
    if _ATTRIBUTION_END.search(first):
        return 1
    has_next = index + 1 < len(lines) and len(first) + len(lines[index + 1]) <= _MAX_ATTRIBUTION_CHARS
    return 2 if has_next and _ATTRIBUTION_END.search(lines[index + 1]) else 0


def _drop_attributed_quotes(lines: list[str]) -> list[str]:
    kept: list[str] = []
    index = 0
    while index < len(lines):
        span = _attribution_length(lines, index)
        following = index + span
        while following < len(lines) and not lines[following].strip():
            following += 1
        if span and following < len(lines) and _quoted(lines[following]):
            while following < len(lines) and (_quoted(lines[following]) or not lines[following].strip()):
                following += 1
            index = following
            continue
        if span and following >= len(lines):
            # An attribution with nothing after it: the client put the history somewhere we dropped.
            break
        kept.append(lines[index])
        index += 1
    return kept


def _drop_final_quote(lines: list[str]) -> list[str]:
    end = len(lines)
    while end and (not lines[end - 1].strip() or _quoted(lines[end - 1])):
        end -= 1
    if any(_quoted(line) for line in lines[end:]):
        return lines[:end]
    return lines


def _drop_signature(lines: list[str]) -> list[str]:
    for index in range(len(lines) - 1, -1, -1):
        if lines[index] == "-- ":
            return lines[:index]
    return lines
