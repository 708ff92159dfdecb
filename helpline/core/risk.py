"""Risk signals: the words in a contact's message that suggest someone may be at risk, and how urgently.

A signal never acts on its own. It raises the conversation's place in the queue and shows the volunteer
which words matched and why; what happens next is a person's decision.

The scale (``Band``), from the volunteer's point of view:

====  ==================  =====================================================================
band  name                meaning
====  ==================  =====================================================================
0     none                nothing in the message matched the lexicon
1     concern             worth noticing, but ambiguous on its own ("relapsed", "older boyfriend")
2     significant harm    someone describes, or is at risk of, serious harm (suicidal thoughts,
                          self-harm, abuse, exploitation, trafficking, a missing child)
3     immediate danger    someone may be hurt or die soon without help: an overdose taken, an
                          attacker present, a plan for tonight
====  ==================  =====================================================================

Nothing here does IO: the lexicon arrives as TOML text, and a scan is a pure function of the text.
"""

from __future__ import annotations

import bisect
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, NoReturn

from helpline.core.regex_starts import starts
from helpline.errors import ConfigError

CATEGORIES = ("suicide", "self_harm", "immediate_danger", "abuse", "exploitation", "trafficking", "missing_child")


class Band(IntEnum):
    """How urgent a message or conversation is; the queue offers higher bands first."""

    NONE = 0
    CONCERN = 1
    SIGNIFICANT_HARM = 2
    IMMEDIATE_DANGER = 3


@dataclass(frozen=True)
class Signal:
    """One lexicon match: why it matters, and where it is in the original message.

    ``text[start:end]`` is the matched stretch of the original text (Python string indexes, code points).
    """

    category: str
    weight: Band
    reason: str
    start: int
    end: int


@dataclass(frozen=True)
class Assessment:
    """A message's band (its highest signal's weight, or none) and its signals in text order."""

    band: Band
    signals: tuple[Signal, ...]


NO_RISK = Assessment(Band.NONE, ())


# --- normalising ------------------------------------------------------------------------------------------

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
_LEADING_DIGITS = re.compile(r"^[0-9]+")
_CLAUSE_BREAK = re.compile(r"[.,;:!?\n\r\u2026]")
_REPEAT = re.compile(r"([^\W\d_])\1+")
_WORD_START = re.compile(r"\b(?=\w)")


@dataclass(frozen=True)
class NormalisedText:
    """A message in the form the lexicon matches, with each character's span in the original text.

    ``starts[i]:ends[i]`` is the original span behind normalised character ``i``; ``clauses`` holds the
    offsets of tokens that follow a clause break (``.``, ``,``, ``!``, a new line …).
    """

    text: str = field(repr=False)
    starts: Sequence[int] = field(repr=False)
    ends: Sequence[int] = field(repr=False)
    clauses: frozenset[int] = field(repr=False)

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
        previous_end = 0
        # In ASCII text each character is its own source; a word of plain letters with no doubled letter
        # and no abbreviation is already in matching form, so it is copied whole rather than char by char.
        plain_text = text.isascii()
        for match in _TOKEN.finditer(folded):
            if _CLAUSE_BREAK.search(folded, previous_end, match.start()) and out:
                # ``starts`` has one entry per normalised character (``out`` may hold whole words).
                clauses.add(len(starts) + 1)
            token = match.group()
            if plain_text and token.isalpha() and token not in self._abbreviations and not _REPEAT.search(token):
                if out:
                    out.append(" ")
                    starts.append(ends[-1])
                    ends.append(match.start())
                out.append(token)
                starts.extend(range(match.start(), match.end()))
                ends.extend(range(match.start() + 1, match.end() + 1))
                previous_end = match.end()
                continue
            word_chars = self._word(token, source[match.start() : match.end()])
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
        return NormalisedText("".join(out), starts, ends, frozenset(clauses))

    def _word(self, token: str, source: Sequence[int]) -> list[tuple[str, int, int]]:
        """One token's normalised characters, each with its original span."""
        if any("a" <= c <= "z" for c in token):
            token = token.translate(_LOOKALIKES)
        whole = (source[0], source[-1] + 1)
        # "he'll" is "he will", but "hell" is not: look the word up with its apostrophe first.
        expansion = self._abbreviations.get(_collapse_text(_unify_apostrophes(token)))
        if expansion is None:
            chars = [(c, s, s + 1) for c, s in zip(token, source, strict=True) if c not in _APOSTROPHES]
            plain = "".join(c for c, _, _ in chars)
            expansion = self._abbreviations.get(_collapse_text(plain))
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
        return _collapse_text(_unify_apostrophes(folded))

    def _plain_words(self, text: str) -> list[str]:
        """Words of an abbreviation's expansion, normalised but not expanded again."""
        folded, _ = self._fold(text)
        return [_collapse_text("".join(c for c in m.group() if c not in _APOSTROPHES)) for m in _TOKEN.finditer(folded)]

    @staticmethod
    def _fold(text: str) -> tuple[str, list[int]]:
        """Per original character: compatibility-folded, marks and invisibles dropped, case folded."""
        if text.isascii():
            return text.lower(), list(range(len(text)))
        out: list[str] = []
        source: list[int] = []
        for index, char in enumerate(text):
            if char.isascii():
                folded = char.lower()
            else:
                decomposed = unicodedata.normalize("NFKD", char)
                bare = "".join(c for c in decomposed if not _dropped(c))
                folded = unicodedata.normalize("NFKC", bare).casefold()
            out.append(folded)
            source.extend([index] * len(folded))
        return "".join(out), source


def _dropped(char: str) -> bool:
    return char in _BLANKS or unicodedata.category(char) in _DROPPED_CATEGORIES


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


def _collapse_text(word: str) -> str:
    return _REPEAT.sub(r"\1", word)


# --- negation ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Negation:
    """Whether a match is negated: a cue ("not", "never") shortly before it, bridged only by filler words.

    "I'm not going to kill myself" and "I would never hurt myself" are negated; "I don't know why I want
    to die" is not ("know" is no bridge word), and nor is "I'm not ok, I want to die" (a clause break).
    """

    cues: frozenset[str]
    bridge: frozenset[str]
    max_bridge: int

    def applies(self, text: NormalisedText, start: int) -> bool:
        clause_start = start
        end = start - 1
        for _ in range(self.max_bridge + 1):
            if end <= 0 or clause_start in text.clauses:
                return False
            word_start = text.text.rfind(" ", 0, end) + 1
            if self._cue_ends_at(text.text, end):
                return True
            if text.text[word_start:end] not in self.bridge:
                return False
            clause_start = word_start
            end = word_start - 1
        return False

    def _cue_ends_at(self, text: str, end: int) -> bool:
        for cue in self.cues:
            begin = end - len(cue)
            if begin >= 0 and text.startswith(cue, begin) and (begin == 0 or text[begin - 1] == " "):
                return True
        return False


# --- the lexicon and the scanner --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """One lexicon entry; ``context`` names the categories the message must also show for it to count."""

    category: str
    weight: Band
    reason: str
    context: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Matcher:
    """Many rules as one regex: a zero-width lookahead at each word start, so matches of different rules
    may overlap; at one position the first alternative wins. ``rules`` maps group names to rules.

    At each word start only a cut-down copy of the regex is tried: ``by_two`` holds, for two characters a
    match can begin with, the rules that can match there; ``by_one`` does the same for the first character
    alone, for words whose first two characters no rule begins with; and ``fallback`` holds the rules whose
    beginnings could not be worked out (they are in every copy too). Each copy keeps the rules' order, so
    the matches are the full regex's own, found without trying every rule at every word.
    """

    regex: re.Pattern[str]
    rules: Mapping[str, _Rule]
    alternatives: tuple[str, ...] = ()
    beginnings: tuple[frozenset[str] | None, ...] = ()
    two_keys: frozenset[str] = frozenset()
    one_keys: frozenset[str] = frozenset()
    fallback: re.Pattern[str] | None = None
    # The cut-down copies are compiled on first use: compiling all of them would make every start slow.
    _copies: dict[str, re.Pattern[str] | None] = field(default_factory=dict)

    def _copy(self, key: str) -> re.Pattern[str] | None:
        """The rules that can match where the text begins with ``key`` (one or two characters), in order."""
        if key not in self._copies:
            chosen = [
                alternative
                for alternative, begins in zip(self.alternatives, self.beginnings, strict=True)
                if begins is None or key in begins or key[0] in begins
            ]
            self._copies[key] = re.compile(f"(?={'|'.join(chosen)})") if chosen else None
        return self._copies[key]

    def find(self, text: str) -> Iterable[tuple[int, int, _Rule]]:
        for word in _WORD_START.finditer(text):
            position = word.start()
            two, first = text[position : position + 2], text[position]
            regex = self._copy(two) if two in self.two_keys else None
            if regex is None:
                regex = (self._copy(first) if first in self.one_keys else None) or self.fallback
            match = regex.match(text, position) if regex is not None else None
            if match is not None and match.lastgroup is not None:
                start, end = match.span(match.lastgroup)
                yield start, end, self.rules[match.lastgroup]


@dataclass(frozen=True)
class _Exclusions:
    """Hard-negative spans found in one message, per category, for overlap tests by bisection."""

    starts: dict[str, list[int]]
    max_ends: dict[str, list[int]]

    def cover(self, category: str, start: int, end: int) -> bool:
        starts = self.starts.get(category)
        if not starts:
            return False
        index = bisect.bisect_left(starts, end)
        return index > 0 and self.max_ends[category][index - 1] > start


_Span = tuple[int, int, _Rule]


class RiskScanner:
    """Scans message text against the lexicon; returns a band and signals with spans in the original text.

    Built once from the lexicon TOML (``from_toml``), which precompiles everything: each category's phrases
    and patterns become one regex, a lookahead tried only at word starts, so one pass per category finds
    every match, overlapping ones included. A scan then:

    1. normalises the message (see ``Normaliser``), keeping each character's original span;
    2. runs each category's regex over it; at one position the first alternative wins, and alternatives
       are ordered by weight, then by phrase length, so the weightiest, most specific rule is chosen;
    3. drops a match that is negated (see ``Negation``), or that overlaps a hard negative for its
       category ("kill myself laughing", "end it with my boyfriend", "my phone died");
    4. runs the contextual rules, which count only beside a signal of another category: "tonight" is
       immediate danger in a message that also speaks of suicide, and nothing on its own;
    5. merges overlapping matches of one category into one signal with the highest weight and its reason;
    6. maps each signal back to the original text; the band is the highest weight, or none.

    Cost is linear in the message length times the number of rules; nothing is compiled per message.
    """

    def __init__(
        self,
        normaliser: Normaliser,
        negation: Negation,
        matchers: Sequence[_Matcher],
        contextual: Sequence[_Matcher],
        exclusions: _Matcher,
        exclusion_scope: Mapping[_Rule, frozenset[str]],
    ) -> None:
        self._normaliser = normaliser
        self._negation = negation
        self._matchers = tuple(matchers)
        self._contextual = tuple(contextual)
        self._exclusions = exclusions
        self._exclusion_scope = exclusion_scope

    @classmethod
    def from_toml(cls, text: str, origin: str = "risk lexicon") -> RiskScanner:
        """Build a scanner from the lexicon's TOML text; a ``ConfigError`` names what is wrong."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{origin} is not valid TOML: {exc}") from None
        builder = _LexiconBuilder(data, origin)
        return cls(*builder.build())

    def scan(self, text: str) -> Assessment:
        """The message's band and signals; a pure function of ``text``."""
        if not text.strip():
            return NO_RISK
        normalised = self._normaliser.normalise(text)
        exclusions = self._find_exclusions(normalised.text)
        found: dict[str, list[_Span]] = {}
        for matcher in self._matchers:
            for start, end, rule in self._kept(matcher, normalised, exclusions):
                found.setdefault(rule.category, []).append((start, end, rule))
        present = frozenset(found)
        for matcher in self._contextual:
            for start, end, rule in self._kept(matcher, normalised, exclusions):
                if rule.context & present:
                    found.setdefault(rule.category, []).append((start, end, rule))
        signals: list[Signal] = []
        for spans in found.values():
            for start, end, rule in _merged(spans):
                original_start, original_end = normalised.original_span(start, end)
                signals.append(Signal(rule.category, rule.weight, rule.reason, original_start, original_end))
        if not signals:
            return NO_RISK
        signals.sort(key=lambda s: (s.start, CATEGORIES.index(s.category)))
        return Assessment(max(s.weight for s in signals), tuple(signals))

    def _kept(self, matcher: _Matcher, normalised: NormalisedText, exclusions: _Exclusions) -> Iterable[_Span]:
        """The matcher's matches that are neither negated nor covered by a hard negative."""
        for start, end, rule in matcher.find(normalised.text):
            if not self._negation.applies(normalised, start) and not exclusions.cover(rule.category, start, end):
                yield start, end, rule

    def _find_exclusions(self, text: str) -> _Exclusions:
        starts: dict[str, list[int]] = {}
        max_ends: dict[str, list[int]] = {}
        for start, end, marker in self._exclusions.find(text):
            for category in self._exclusion_scope[marker]:
                ends = max_ends.setdefault(category, [])
                starts.setdefault(category, []).append(start)
                ends.append(max(end, ends[-1]) if ends else end)
        return _Exclusions(starts, max_ends)


def _merged(spans: list[_Span]) -> list[_Span]:
    """Overlapping matches of one category as one: the union of their spans, the weightiest rule."""
    merged: list[_Span] = []
    for start, end, rule in sorted(spans, key=lambda span: (span[0], -span[1])):
        if merged and start < merged[-1][1]:
            last_start, last_end, last_rule = merged[-1]
            best = rule if rule.weight > last_rule.weight else last_rule
            merged[-1] = (last_start, max(last_end, end), best)
        else:
            merged.append((start, end, rule))
    return merged


_ESCAPE = re.compile(r"\\.")
# ``{name}`` in a lexicon pattern; ``{2,3}`` repetitions are left alone.
_FRAGMENT = re.compile(r"\{([a-z_]+)\}")

_Built = tuple[Normaliser, Negation, list[_Matcher], list[_Matcher], _Matcher, dict[_Rule, frozenset[str]]]


class _LexiconBuilder:
    """Checks the lexicon's TOML and compiles it."""

    _TOP_KEYS = frozenset({"abbreviations", "fragments", "negation", "rules", "hard_negatives"})
    _RULE_KEYS = frozenset({"category", "weight", "reason", "phrases", "patterns", "with"})
    _HARD_NEGATIVE_KEYS = frozenset({"categories", "phrases", "patterns"})

    def __init__(self, data: dict[str, Any], origin: str) -> None:
        self._data = data
        self._origin = origin
        unknown = set(data) - self._TOP_KEYS
        if unknown:
            self._fail(f"unknown key '{sorted(unknown)[0]}'")
        fragments = data.get("fragments", {})
        if not isinstance(fragments, dict) or not all(isinstance(v, str) for v in fragments.values()):
            self._fail("[fragments] must map names to regular expressions")
        self._fragments: dict[str, str] = fragments

    def build(self) -> _Built:
        abbreviations = self._data.get("abbreviations", {})
        if not isinstance(abbreviations, dict) or not all(isinstance(v, str) for v in abbreviations.values()):
            self._fail("[abbreviations] must map words to text")
        normaliser = Normaliser(abbreviations)
        primary: dict[str, list[tuple[tuple[int, int], str, _Rule]]] = {c: [] for c in CATEGORIES}
        contextual: dict[str, list[tuple[tuple[int, int], str, _Rule]]] = {c: [] for c in CATEGORIES}
        for index, raw in enumerate(self._list("rules")):
            rule = self._rule(raw, f"rules[{index}]")
            into = contextual if rule.context else primary
            for body, length in self._bodies(raw, normaliser, f"rules[{index}]"):
                into[rule.category].append(((-rule.weight, -length), body, rule))
        exclusions, scope = self._hard_negatives(normaliser)
        return (
            normaliser,
            self._negation(normaliser),
            [_compile(entries) for entries in primary.values() if entries],
            [_compile(entries) for entries in contextual.values() if entries],
            exclusions,
            scope,
        )

    def _rule(self, raw: Any, where: str) -> _Rule:
        self._keys(raw, self._RULE_KEYS, where)
        category = raw.get("category")
        if category not in CATEGORIES:
            self._fail(f"{where}: category must be one of {', '.join(CATEGORIES)}")
        weight = raw.get("weight")
        if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= 3:
            self._fail(f"{where}: weight must be 1 (concern), 2 (significant harm) or 3 (immediate danger)")
        reason = raw.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            self._fail(f"{where}: a reason the volunteer will read is required")
        context = self._strings(raw.get("with", []), f"{where}.with")
        if not set(context) <= set(CATEGORIES) or category in context:
            self._fail(f"{where}: 'with' must name other categories, among {', '.join(CATEGORIES)}")
        return _Rule(category, Band(weight), reason.strip(), frozenset(context))

    def _negation(self, normaliser: Normaliser) -> Negation:
        raw = self._data.get("negation", {})
        self._keys(raw, frozenset({"cues", "bridge", "max_bridge"}), "negation")
        cues = self._strings(raw.get("cues", []), "negation.cues")
        bridge = self._strings(raw.get("bridge", []), "negation.bridge")
        max_bridge = raw.get("max_bridge", 3)
        if not isinstance(max_bridge, int) or isinstance(max_bridge, bool) or not 0 <= max_bridge <= 8:
            self._fail("negation.max_bridge must be a whole number from 0 to 8")
        bridge_words = frozenset(w for phrase in bridge for w in normaliser.phrase(phrase).split())
        return Negation(frozenset(normaliser.phrase(c) for c in cues if c.strip()), bridge_words, max_bridge)

    def _hard_negatives(self, normaliser: Normaliser) -> tuple[_Matcher, dict[_Rule, frozenset[str]]]:
        entries: list[tuple[tuple[int, int], str, _Rule]] = []
        scope: dict[_Rule, frozenset[str]] = {}
        for index, raw in enumerate(self._list("hard_negatives")):
            where = f"hard_negatives[{index}]"
            self._keys(raw, self._HARD_NEGATIVE_KEYS, where)
            categories = self._strings(raw.get("categories", list(CATEGORIES)), f"{where}.categories")
            if not set(categories) <= set(CATEGORIES):
                self._fail(f"{where}: categories must be among {', '.join(CATEGORIES)}")
            marker = _Rule(where, Band.NONE, where)
            scope[marker] = frozenset(categories)
            entries.extend(((0, -length), body, marker) for body, length in self._bodies(raw, normaliser, where))
        return _compile(entries), scope

    def _bodies(self, raw: dict[str, Any], normaliser: Normaliser, where: str) -> Iterable[tuple[str, int]]:
        """Each phrase and pattern of one entry as a regex body, with a length for ordering."""
        phrases = self._strings(raw.get("phrases", []), f"{where}.phrases")
        patterns = self._strings(raw.get("patterns", []), f"{where}.patterns")
        if not phrases and not patterns:
            self._fail(f"{where}: give at least one phrase or pattern")
        for phrase in phrases:
            words = normaliser.phrase(phrase)
            if not words:
                self._fail(f"{where}: the phrase '{phrase}' has no letters or digits")
            yield re.escape(words), len(words)
        for pattern in patterns:
            yield self._checked(pattern, f"{where}.patterns"), 0

    def _expand(self, pattern: str, where: str) -> str:
        """``{name}`` replaced by its fragment, as a non-capturing group; fragments may use fragments."""

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in self._fragments:
                self._fail(f"{where}: '{pattern}' uses the unknown fragment {{{name}}}")
            return f"(?:{self._fragments[name]})"

        for _ in range(len(self._fragments) + 1):
            expanded = _FRAGMENT.sub(substitute, pattern)
            if expanded == pattern:
                return expanded
            pattern = expanded
        self._fail(f"{where}: fragments refer to each other in a loop")

    def _checked(self, written: str, where: str) -> str:
        """The pattern with fragments inserted and repeated letters squeezed, as the text is."""
        pattern = _squeeze(self._expand(written, where))
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            self._fail(f"{where}: '{written}' is not a valid regular expression: {exc}")
        if compiled.groupindex or re.search(r"\\[1-9]", pattern):
            self._fail(f"{where}: '{written}' may not use named groups or backreferences")
        if re.search(r"[A-Z]", _ESCAPE.sub("", pattern)):
            self._fail(f"{where}: '{written}' has capitals; patterns match lower-case text")
        return pattern

    def _list(self, key: str) -> list[dict[str, Any]]:
        value = self._data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self._fail(f"'{key}' must be an array of tables ([[{key}]])")
        return value

    def _keys(self, raw: Any, allowed: frozenset[str], where: str) -> None:
        if not isinstance(raw, dict):
            self._fail(f"{where} must be a table")
        unknown = set(raw) - allowed
        if unknown:
            self._fail(f"{where}: unknown key '{sorted(unknown)[0]}'")

    def _strings(self, value: Any, where: str) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self._fail(f"{where} must be a list of strings")
        return value

    def _fail(self, problem: str) -> NoReturn:
        raise ConfigError(f"{self._origin}: {problem}")


def _squeeze(pattern: str) -> str:
    """Runs of a repeated letter outside escape sequences become one letter (``kill`` → ``kil``)."""
    pieces: list[str] = []
    position = 0
    for escape in _ESCAPE.finditer(pattern):
        pieces.append(_collapse_text(pattern[position : escape.start()]))
        pieces.append(escape.group())
        position = escape.end()
    pieces.append(_collapse_text(pattern[position:]))
    return "".join(pieces)


def _compile(entries: list[tuple[tuple[int, int], str, _Rule]]) -> _Matcher:
    """One regex over all entries, ordered by their sort key, tried at each word start."""
    ordered = sorted(entries, key=lambda entry: entry[0])
    rules = {f"r{i}": rule for i, (_, _, rule) in enumerate(ordered)}
    if not ordered:
        return _Matcher(re.compile(r"(?!)"), rules)
    alternatives = tuple(rf"(?P<r{i}>\b(?:{pattern})\b)" for i, (_, pattern, _) in enumerate(ordered))
    beginnings = tuple(starts(pattern) for _, pattern, _ in ordered)
    keys = {key for begins in beginnings if begins is not None for key in begins}
    fallback = re.compile(f"(?={'|'.join(a for a, b in zip(alternatives, beginnings, strict=True) if b is None)})")
    return _Matcher(
        re.compile(rf"\b(?=\w)(?={'|'.join(alternatives)})"),
        rules,
        alternatives,
        beginnings,
        frozenset(key for key in keys if len(key) == 2),
        frozenset(key[0] for key in keys),
        fallback if any(b is None for b in beginnings) else None,
    )
