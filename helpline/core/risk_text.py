"""How the risk scan reads a message: the text the lexicon matches, and where each character came from.

``Normaliser.normalise`` folds case, accents, look-alike letters, leetspeak, repeated letters and
abbreviations, and keeps each character's span in the original text, so the console can mark the very
words that matched. ``Normaliser.read`` gives the same text for ASCII messages (most of them) with
whole-word string operations, and works out clauses and spans only if a rule matches (``AsciiText``).
Nothing here does IO.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

# Dropped wherever they appear: format characters (zero-width spaces and joiners, soft hyphens, bidi
# marks), combining marks (accents, also when typed separately), and blank Hangul fillers.
_DROPPED_CATEGORIES = frozenset({"Cf", "Mn", "Me"})
_BLANKS = frozenset("\u115f\u1160\u3164\uffa0")
_APOSTROPHES = frozenset("'’‘ʼ`´")
# Cyrillic and Greek letters that look like Latin ones, used to dodge filters ("kill" with U+0456 for "i").
_LOOKALIKES = str.maketrans("аеорсухіјѕкмтнвοαικνρυτ", "aeopcyxijskmthboaikvput")
_LEET = str.maketrans("013457@$!|", "oieastasil")
# Letters and digits, plus symbols that stand for letters in leetspeak (h@te, $elf).
_TOKEN = re.compile(r"(?:[^\W_]|[@$])+(?:['’‘ʼ`´!|](?:[^\W_]|[@$])+)*")
# What ``_TOKEN`` matches in lower-cased ASCII text, spelt out for ASCII (quicker to run).
_ASCII_TOKEN = re.compile(r"[a-z0-9@$]+(?:['`!|][a-z0-9@$]+)*")
_LEADING_DIGITS = re.compile(r"^[0-9]+")
_CLAUSE_BREAK = re.compile(r"[.,;:!?\n\r\u2026]")
# The end of a sentence: a full stop, "!", "?" or "…" (or a run of them) that no word character follows, or a
# line break. "800.5", "a!b" and "e.g.x" are no break; every sentence break is also a clause break.
_SENTENCE_BREAK = re.compile(r"[.!?\u2026]++(?![\w@$])|[\n\r]")
_REPEAT = re.compile(r"([^\W\d_])\1+")
# A letter followed by the same letter: deleting each of those squeezes every run of a letter to one.
_REPEATED = re.compile(r"([^\W\d_])(?=\1)")
_ASCII_REPEATED = re.compile(r"([a-z])(?=\1)")  # the same in lower-cased ASCII text, quicker
# A run of one letter, in lower-cased ASCII text.
_LETTER_RUN = re.compile(r"([a-z])\1*")
# A stretch of ASCII characters, or one other character.
_ASCII_RUN = re.compile(r"[\x00-\x7f]+|[^\x00-\x7f]")


@dataclass(frozen=True)
class NormalisedText:
    """A message in the form the lexicon matches, with each character's span in the original text.

    ``starts[i]:ends[i]`` is the original span behind normalised character ``i``; ``clauses`` holds the
    offsets of tokens that follow a clause break (``.``, ``,``, ``!``, a new line …), and ``sentences``
    those that follow a sentence break (``.``, ``!``, ``?`` before a space, a new line).
    """

    text: str = field(repr=False)
    starts: Sequence[int] = field(repr=False)
    ends: Sequence[int] = field(repr=False)
    clauses: frozenset[int] = field(repr=False)
    sentences: frozenset[int] = field(repr=False, default=frozenset())

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        return self.starts[start], self.ends[end - 1]


class Normaliser:
    """Turns text into lower-case words separated by single spaces, ready for matching.

    For each original character: NFKC compatibility folding with combining marks stripped (``kíll`` →
    ``kill``, fullwidth and mathematical letters → ASCII), invisible characters dropped, case folded.
    Then, word by word: lookalike Cyrillic and Greek letters in Latin words mapped to Latin; the word
    looked up in the abbreviation table first as written (``he'll`` → ``he will``, where ``hell`` is not),
    then with its apostrophes dropped (``wanna`` → ``want to``, ``don't`` and ``dont`` → ``do not``); if
    still not found, leetspeak inside the word mapped (``k1ll``, ``h@te``; a leading
    number such as ``3am`` is kept) and looked up again. Finally every run of a repeated letter becomes one
    letter (``kiiill`` → ``kil``, and so ``kill`` → ``kil``): both the lexicon and the messages are
    normalised this way, so spellings that stretch or drop a doubled letter meet.

    ``normalise`` is the definition. ``read`` gives the same for the scanner, quicker for ASCII text.
    """

    def __init__(self, abbreviations: Mapping[str, str]) -> None:
        plain: dict[str, str] = {}
        for short, long in abbreviations.items():
            plain[self._word_key(short)] = " ".join(self._plain_words(long))
        self._abbreviations = plain

    def phrase(self, text: str) -> str:
        """A lexicon phrase in matching form."""
        return self.normalise(text).text

    def normalise(self, text: str) -> NormalisedText:
        folded, source = self._fold(text)
        out: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        clauses: set[int] = set()
        sentences: set[int] = set()
        previous_end = 0
        for match in _TOKEN.finditer(folded):
            if _CLAUSE_BREAK.search(folded, previous_end, match.start()) and out:
                # ``starts`` has one entry per normalised character.
                clauses.add(len(starts) + 1)
                # Searched up to the next token's first character: what follows a mark decides whether it ends
                # a sentence.
                found = _SENTENCE_BREAK.search(folded, previous_end, match.start() + 1)
                if found and found.start() < match.start():
                    sentences.add(len(starts) + 1)
            token = match.group()
            token_source = source[match.start() : match.end()]
            if token.isascii() and token.isalpha() and token not in self._abbreviations and not _REPEAT.search(token):
                # Plain letters, no doubled letter, not an abbreviation: ``_word`` would change nothing.
                word_chars = [(char, start, start + 1) for char, start in zip(token, token_source, strict=True)]
            else:
                word_chars = self._word(token, token_source)
            if not word_chars:
                continue
            if out:
                out.append(" ")
                starts.append(ends[-1])
                ends.append(word_chars[0][1])
            for char, start, end in word_chars:
                out.append(char)
                starts.append(start)
                ends.append(end)
            previous_end = match.end()
        return NormalisedText("".join(out), starts, ends, frozenset(clauses), frozenset(sentences))

    def read(self, text: str) -> NormalisedText | AsciiText:
        """``normalise(text)``, or for ASCII text (most messages) the same made quicker (see ``AsciiText``).

        Text whose only other characters are ones normalising treats just like an ASCII character (a curly
        apostrophe, a dash, an emoji: see ``_stand_ins``) takes the ASCII way with those swapped in.
        """
        plain = text if text.isascii() else text.translate(_STAND_INS)
        if not plain.isascii():
            return self.normalise(text)
        lowered = plain.lower()  # all that folding does to ASCII
        tokens = _ASCII_TOKEN.findall(lowered)
        # Tokens hold no spaces, so squeezing them joined and splitting again squeezes each one.
        squeezed = _ascii_collapse(" ".join(tokens)).split(" ") if tokens else []
        abbreviations = self._abbreviations
        # A token of letters only (most are) can only be squeezed or expanded; see ``_ascii_word``.
        words = [
            abbreviations.get(short, short) if token.isalpha() else self._ascii_word(token)
            for token, short in zip(tokens, squeezed, strict=True)
        ]
        return AsciiText(lowered, words, self._ascii_chars)

    def _ascii_word(self, token: str) -> str:
        """``_word`` for an ASCII token, as text: the same steps, with no lookalikes and no spans."""
        expansion = self._abbreviations.get(_ascii_collapse(token.replace("`", "'")))
        if expansion is not None:
            return expansion
        plain = token.replace("'", "").replace("`", "")
        expansion = self._abbreviations.get(_ascii_collapse(plain))
        if expansion is not None:
            return expansion
        if any(c.isalpha() for c in plain):
            lead = _LEADING_DIGITS.match(plain)
            keep = lead.end() if lead else 0
            plain = plain[:keep] + plain[keep:].translate(_LEET)
        word = _ascii_collapse(plain)
        return self._abbreviations.get(word, word)

    def _ascii_chars(self, token: str, begin: int, end: int) -> list[_Char]:
        """``_word(token, range(begin, end))`` for an ASCII token: quicker for a token of letters only."""
        if not token.isalpha():
            return self._word(token, range(begin, end))
        expansion = self._abbreviations.get(_ascii_collapse(token))
        if expansion is not None:  # every character spans the whole token
            return [(char, begin, end) for char in expansion]
        # Squeezed: each letter spans its run of that letter.
        return [(run.group(1), begin + run.start(), begin + run.end()) for run in _LETTER_RUN.finditer(token)]

    def _word(self, token: str, source: Sequence[int]) -> list[tuple[str, int, int]]:
        """One token's normalised characters, each with its original span."""
        if any("a" <= c <= "z" for c in token):
            token = token.translate(_LOOKALIKES)
        whole = (source[0], source[-1] + 1)
        # "he'll" is "he will", but "hell" is not: look the word up with its apostrophe first.
        expansion = self._abbreviations.get(collapse_text(_unify_apostrophes(token)))
        if expansion is None:
            chars = [(c, s, s + 1) for c, s in zip(token, source, strict=True) if c not in _APOSTROPHES]
            plain = "".join(c for c, _, _ in chars)
            expansion = self._abbreviations.get(collapse_text(plain))
            if expansion is None:
                lead = _LEADING_DIGITS.match(plain)
                keep = lead.end() if lead else 0
                if any(c.isalpha() for c in plain):
                    chars = chars[:keep] + [(c.translate(_LEET), s, e) for c, s, e in chars[keep:]]
                chars = _collapse(chars)
                expansion = self._abbreviations.get("".join(c for c, _, _ in chars))
                if expansion is None:
                    return chars
        return [(c, *whole) for c in expansion]

    def _word_key(self, word: str) -> str:
        folded, _ = self._fold(word.strip())
        return collapse_text(_unify_apostrophes(folded))

    def _plain_words(self, text: str) -> list[str]:
        """Words of an abbreviation's expansion, normalised but not expanded again."""
        folded, _ = self._fold(text)
        return [collapse_text("".join(c for c in m.group() if c not in _APOSTROPHES)) for m in _TOKEN.finditer(folded)]

    @staticmethod
    def _fold(text: str) -> tuple[str, list[int]]:
        """Per original character: compatibility-folded, marks and invisibles dropped, case folded."""
        if text.isascii():
            return text.lower(), list(range(len(text)))
        out: list[str] = []
        source: list[int] = []
        # ASCII stretches are only lower-cased, a whole stretch at a time; other characters one by one.
        for run in _ASCII_RUN.finditer(text):
            index = run.start()
            if run.group().isascii():
                out.append(run.group().lower())
                source.extend(range(index, run.end()))
                continue
            folded = _fold_char(run.group())
            out.append(folded)
            source.extend([index] * len(folded))
        return "".join(out), source


def _fold_char(char: str) -> str:
    """One character compatibility-folded, marks and invisibles dropped, case folded (maybe "", or several)."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", char) if not _dropped(c))
    return unicodedata.normalize("NFKC", bare).casefold()


def _dropped(char: str) -> bool:
    return char in _BLANKS or unicodedata.category(char) in _DROPPED_CATEGORIES


def _stand_ins(ranges: Iterable[range]) -> Mapping[int, str]:
    """For characters normalising treats exactly as an ASCII one, that one: for ``str.translate``.

    A character that folds to a single character which is no part of a word, no clause break and no
    leetspeak is read just like a space (``—``, ``“``, most emoji); one that folds to an apostrophe, like
    ``'``. Swapping them one for one keeps every position, so the message can take the ASCII way.
    """
    table: dict[int, str] = {}
    for char in map(chr, itertools.chain.from_iterable(ranges)):
        folded = _fold_char(char)
        if folded in ("'", "’", "‘"):
            table[ord(char)] = "'"
        elif (
            len(folded) == 1 and not _TOKEN.match(folded) and not _CLAUSE_BREAK.match(folded) and folded not in "'`´ʼ!|"
        ):
            table[ord(char)] = " "
    return MappingProxyType(table)


# Latin-1 symbols, general punctuation, arrows, other symbols and dingbats, and emoji: the non-ASCII
# characters most often found in otherwise plain messages (curly apostrophes above all).
_STAND_INS = _stand_ins(
    [range(0x80, 0x100), range(0x2000, 0x2070), range(0x2190, 0x2200), range(0x2600, 0x27C0), range(0x1F300, 0x1FB00)]
)


def _collapse(chars: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Runs of one repeated letter become one letter spanning the whole run."""
    out: list[tuple[str, int, int]] = []
    for char, start, end in chars:
        if out and out[-1][0] == char and char.isalpha():
            out[-1] = (char, out[-1][1], end)
        else:
            out.append((char, start, end))
    return out


def _unify_apostrophes(word: str) -> str:
    return "".join("'" if c in _APOSTROPHES else c for c in word)


def collapse_text(word: str) -> str:
    return _REPEATED.sub("", word)


def _ascii_collapse(word: str) -> str:
    """``collapse_text`` for lower-cased ASCII."""
    return _ASCII_REPEATED.sub("", word)


# A normalised character: itself, and the start and end of its span in the original text.
_Char = tuple[str, int, int]


class AsciiText:
    """An ASCII message in matching form: what ``Normaliser.normalise`` gives, worked out only as needed.

    ``text`` is made at once, by string operations on whole tokens (``Normaliser.read``); most messages
    need nothing more, as no rule matches them. ``clauses`` and ``original_span`` find the tokens again
    when first asked, and work out the spans of just the words asked about, as ``_word`` would. Folding
    ASCII only lower-cases it, so every character stays where it is: a token's place in the lower-cased
    text is its place in the message.
    """

    def __init__(self, lowered: str, words: list[str], chars: Callable[[str, int, int], list[_Char]]) -> None:
        """``words`` has the normalised word of each token of ``lowered`` in turn ("" when it is dropped);
        ``chars(token, begin, end)`` gives a token's characters with their spans, as ``_word`` does."""
        self.text = " ".join(word for word in words if word)
        self._lowered = lowered
        self._words = words
        self._token_chars = chars
        self._known: dict[int, list[_Char]] = {}  # the characters of the words asked about so far

    @cached_property
    def clauses(self) -> frozenset[int]:
        """As ``normalise`` records them: after each clause break, the offset of the next word in ``text``.

        Only a break after some word counts, and not one inside a word's own token (``a!b``). A break
        before a token that is dropped counts for the word after it (or, with none, for ``len(text) + 1``).
        """
        return self._after(_CLAUSE_BREAK)

    @cached_property
    def sentences(self) -> frozenset[int]:
        """As ``normalise`` records them: after each sentence break, the offset of the next word in ``text``."""
        if not _SENTENCE_BREAK.search(self._lowered):
            return frozenset()  # most short messages: nothing to work out
        return self._after(_SENTENCE_BREAK)

    def _after(self, breaks: re.Pattern[str]) -> frozenset[int]:
        """The offset in ``text`` of the word after each of ``breaks`` that follows some word."""
        offsets, kept = self._kept
        begins = [match.start() for match in self._matches]
        kept_before = list(itertools.accumulate((bool(word) for word in self._words), initial=0))  # per token
        clauses: set[int] = set()
        for found in breaks.finditer(self._lowered):
            after = bisect.bisect_right(begins, found.start())  # the first token after the break
            before = kept_before[after] if after < len(begins) else 0  # words before that token
            if before and kept[before - 1].end() <= found.start():
                clauses.add(offsets[before])
        return frozenset(clauses)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        return self._span(start)[0], self._span(end - 1)[1]

    @cached_property
    def _matches(self) -> list[re.Match[str]]:
        """Every token of the lower-cased text (where its place is the token's place in the message)."""
        return list(_ASCII_TOKEN.finditer(self._lowered))

    @cached_property
    def _kept(self) -> tuple[list[int], list[re.Match[str]]]:
        """Per word of ``text``, its offset there and its token; the offsets end with ``len(text) + 1``."""
        kept = [match for match, word in zip(self._matches, self._words, strict=True) if word]
        offsets = list(itertools.accumulate((len(word) + 1 for word in self._words if word), initial=0))
        return offsets, kept

    def _span(self, index: int) -> tuple[int, int]:
        """The original span behind normalised character ``index`` (``starts`` and ``ends`` in ``normalise``)."""
        number = bisect.bisect_right(self._kept[0], index) - 1
        chars = self._chars(number)
        within = index - self._kept[0][number]
        if within < len(chars):
            return chars[within][1], chars[within][2]
        # The space after a word spans the gap between its last character and the next word's first.
        return chars[-1][2], self._chars(number + 1)[0][1]

    def _chars(self, number: int) -> list[_Char]:
        """The characters of word ``number``, with their spans."""
        if number not in self._known:
            match = self._kept[1][number]
            self._known[number] = self._token_chars(match.group(), match.start(), match.end())
        return self._known[number]
