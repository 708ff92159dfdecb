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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from typing import Any, NoReturn

from helpline.core.regex_starts import checked_starts, key, starts
from helpline.core.risk_text import AsciiText, NormalisedText, Normaliser, collapse_text
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

    def applies(self, text: NormalisedText | AsciiText, start: int) -> bool:
        # Clause breaks can only turn a "negated" into "not": they are looked at (which, for an
        # ``AsciiText``, means working them out) only when there is a cue to reach at all.
        return self._reaches_cue(text.text, start, frozenset()) and self._reaches_cue(text.text, start, text.clauses)

    def _reaches_cue(self, text: str, start: int, clauses: frozenset[int]) -> bool:
        clause_start = start
        end = start - 1
        for _ in range(self.max_bridge + 1):
            if end <= 0 or clause_start in clauses:
                return False
            word_start = text.rfind(" ", 0, end) + 1
            if self._cue_ends_at(text, end):
                return True
            if text[word_start:end] not in self.bridge:
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


_Span = tuple[int, int, _Rule]

# How many characters at a word start the rules that can match there are looked up by. Longer picks
# fewer rules per word but makes a larger table, slower to build: with the shipped lexicon 5 measured
# well (2 or 3 try twice as many rules per message; 8 is hardly quicker to scan, and twice as slow to build).
_HEAD = 5


@dataclass(frozen=True)
class _Entry:
    """One phrase or pattern of a rule, as a regex body, compiled on its own to be tried at a word start.

    ``regex`` is ``\\b(?:pattern)\\b``. ``beginnings`` are the first (up to ``_HEAD``) characters its
    matches can have, digits spelt ``0`` (see ``regex_starts``); None when they cannot be worked out, and
    then it is tried at every word.
    """

    pattern: str
    regex: re.Pattern[str]
    beginnings: frozenset[str] | None
    rule: _Rule


class _Matcher:
    """Many rules tried at each word start, in order: at one position the first rule that matches wins.

    The definition is ``regex``: all the rules as one regex, a zero-width lookahead of alternatives at each
    word start, so matches of different rules may overlap; ``rules`` maps its group names to rules.
    ``find_everywhere`` runs it. Trying every rule at every word is slow, though, so ``find`` (and the
    scanner, through ``_Dispatch``) tries each rule on its own, in the same order, and only at words whose
    first characters it can begin with: the same matches, as tests/test_risk_speed_equivalence.py checks.
    """

    def __init__(self, entries: Sequence[_Entry]) -> None:
        """``entries`` in order: the first that matches at a word start wins there."""
        self.entries = tuple(entries)
        self.rules: Mapping[str, _Rule] = {f"r{i}": entry.rule for i, entry in enumerate(self.entries)}

    @cached_property
    def regex(self) -> re.Pattern[str]:
        """The full regex (compiled when first asked for: only the slow reference path uses it)."""
        if not self.entries:
            return re.compile(r"(?!)")
        alternatives = "|".join(rf"(?P<r{i}>\b(?:{entry.pattern})\b)" for i, entry in enumerate(self.entries))
        return re.compile(rf"\b(?=\w)(?={alternatives})")

    def find(self, text: str, ends: Sequence[int] = ()) -> list[_Span]:
        """The matches in normalised ``text``, in text order, found by looking rules up at each word.

        ``ends`` are where the text's sentences end (see ``sentence_ends``); no match runs past one.
        """
        return self._dispatch.find(text, ends or (len(text),))[0]

    def find_everywhere(self, text: str, ends: Sequence[int] = ()) -> list[_Span]:
        """The same matches as ``find``, by the full regex at every word start of each sentence: the reference."""
        found: list[_Span] = []
        begin = 0
        for end in ends or (len(text),):
            for match in self.regex.finditer(text, begin, end):
                if match.lastgroup is not None:
                    start, stop = match.span(match.lastgroup)
                    found.append((start, stop, self.rules[match.lastgroup]))
            begin = end + 1  # past the space between two sentences
        return found

    @cached_property
    def _dispatch(self) -> _Dispatch:
        return _Dispatch((self,))


# The rules of one matcher to try at one word start, in order: (the matcher's number, the rules), each
# rule as its compiled regex's ``match`` and the rule.
_Group = tuple[int, tuple[tuple[Callable[[str, int, int], re.Match[str] | None], _Rule], ...]]


class _Dispatch:
    """Finds the matches of several matchers in one pass over a text's words, trying few rules at each.

    At a word start, a rule can only match if one of its ``beginnings`` is a prefix of the text there
    (digits spelt ``0``). All the beginnings that are prefixes of the text at one place are prefixes of
    the longest of them, so that one says which rules can match there: ``_by_beginning`` maps each
    beginning to those rules, per matcher and in its order, with the rules whose beginnings are unknown
    (which are also listed under ``""``, for words no beginning fits). ``_heads``, one regex built as a
    tree of the beginnings, finds the word starts where a beginning fits, with the longest one. So words
    no rule can begin with cost no Python at all; that is the prefilter.
    """

    def __init__(self, matchers: Sequence[_Matcher]) -> None:
        self._count = len(matchers)
        # Per matcher: the entry numbers under each beginning, and those whose beginnings are unknown.
        numbers: list[dict[str, list[int]]] = [{} for _ in matchers]
        anywhere: list[list[int]] = [[] for _ in matchers]
        for matcher, under, unknown in zip(matchers, numbers, anywhere, strict=True):
            for number, entry in enumerate(matcher.entries):
                if entry.beginnings is None:
                    unknown.append(number)
                for beginning in entry.beginnings or ():
                    under.setdefault(beginning, []).append(number)

        def groups(beginning: str) -> tuple[_Group, ...]:
            """Per matcher, the entries that can match where the text begins with ``beginning``, in order."""
            prefixes = [beginning[:length] for length in range(1, len(beginning) + 1)]
            out: list[_Group] = []
            for index, matcher in enumerate(matchers):
                chosen = set(anywhere[index]).union(*(numbers[index].get(prefix, ()) for prefix in prefixes))
                if chosen:
                    tries = tuple((matcher.entries[n].regex.match, matcher.entries[n].rule) for n in sorted(chosen))
                    out.append((index, tries))
            return tuple(out)

        beginnings = {beginning for under in numbers for beginning in under}
        self._by_beginning = {beginning: groups(beginning) for beginning in {"", *beginnings}}
        # A lookahead, so that a beginning running into the next word does not hide that word's start.
        if any(anywhere):  # every word start counts, with "" where no beginning fits
            self._heads = re.compile(rf"\b(?=\w)(?=((?:{_tree(beginnings)})?))")
        else:
            self._heads = re.compile(rf"\b(?=\w)(?=({_tree(beginnings)}))" if beginnings else "(?!)")

    def find(self, text: str, ends: Sequence[int]) -> list[list[_Span]]:
        """Each matcher's matches in normalised ``text``, in text order, as its full regex finds them.

        ``ends`` are the ends of the text's sentences, in order, the last ``len(text)``: a rule is tried
        with the text cut at the end of the sentence it starts in, so no match crosses into the next one.
        """
        found: list[list[_Span]] = [[] for _ in range(self._count)]
        by_beginning = self._by_beginning
        sentence = 0
        end = ends[0]
        # ``key`` keeps every character where it is, with digits spelt as beginnings spell them.
        for head in self._heads.finditer(key(text)):
            start = head.start()
            while start > end:
                sentence += 1
                end = ends[sentence]
            for index, tries in by_beginning[head.group(1)]:
                for match_at, rule in tries:
                    match = match_at(text, start, end)
                    if match is not None:
                        found[index].append((start, match.end(), rule))
                        break
        return found


def _tree(strings: set[str]) -> str:
    """A regex matching the longest of ``strings`` that the text begins with, where one does.

    The strings are grouped by their first character, so the regex engine follows one branch per
    character, like a walk down a tree: ``{"a", "abc", "b"}`` becomes ``a(?:bc|)|b``; on "abd" it
    tries "abc", then falls back to "a".
    """
    after: dict[str, set[str]] = {}
    for string in strings:
        after.setdefault(string[0], set()).add(string[1:])
    branches = []
    for first, rests in sorted(after.items()):
        ends_here = "" in rests
        rests.discard("")
        # ``(?:...|)`` rather than ``(?:...)?``: the same, and quicker in Python's regex engine.
        longer = f"(?:{_tree(rests)}{'|' if ends_here else ''})" if rests else ""
        branches.append(re.escape(first) + longer)
    return "|".join(branches)


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


class RiskScanner:
    """Scans message text against the lexicon; returns a band and signals with spans in the original text.

    Built once from the lexicon TOML (``from_toml``), which precompiles everything: each category's phrases
    and patterns become a matcher (see ``_Matcher``), and a table (``_Dispatch``) says which of the
    matchers' rules can match at a word, by its first few characters. A scan then:

    1. normalises the message (see ``Normaliser``, and ``Normaliser.read`` for the quick way most
       messages take: their words at once, each character's original span only if needed);
    2. finds the primary (not contextual) matchers' matches in one pass over the words, trying at each word
       only the rules that can begin there; at one position the first rule that matches wins, and rules
       are ordered by weight, then by phrase length, so the weightiest, most specific rule is chosen.
       Without a primary match there can be no signal, and the scan stops here, as for most messages;
    3. finds the contextual rules' and the hard negatives' matches the same way;
    4. drops a match that is negated (see ``Negation``), or that overlaps a hard negative for its
       category ("kill myself laughing", "end it with my boyfriend", "my phone died");
    5. keeps the contextual rules' matches only beside a signal of another category: "tonight" is
       immediate danger in a message that also speaks of suicide, and nothing on its own;
    6. merges overlapping matches of one category into one signal with the highest weight and its reason;
    7. maps each signal back to the original text; the band is the highest weight, or none.

    Cost is linear in the message length; nothing is compiled per message. ``_scan_everywhere`` gives the
    same results the slow way (full normalising, every rule at every word), for tests to compare against.
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
        # Every matcher, in the order ``_assess`` expects their matches: primary, contextual, hard negatives.
        self._all = (*self._matchers, *self._contextual, exclusions)
        # The primary matchers are tried first: without a match of theirs, the others cannot matter.
        self._primary = _Dispatch(self._matchers)
        self._secondary = _Dispatch((*self._contextual, exclusions))

    @classmethod
    def from_toml(cls, text: str, origin: str = "risk lexicon", known_names: Sequence[str] = ()) -> RiskScanner:
        """Build a scanner from the lexicon's TOML text; a ``ConfigError`` names what is wrong.

        ``known_names`` are proper names that are never risk: charities, helplines and their numbers
        ("Missing People", "Childline", "116 000"). They act as a hard negative for every category, so
        "is this the missing people chat?" is not someone missing.
        """
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{origin} is not valid TOML: {exc}") from None
        names = [name for name in known_names if name.strip()]
        if names:
            negatives = data.get("hard_negatives", [])
            if isinstance(negatives, list):
                data["hard_negatives"] = [*negatives, {"phrases": names}]
        builder = _LexiconBuilder(data, origin)
        return cls(*builder.build())

    def scan(self, text: str) -> Assessment:
        """The message's band and signals; a pure function of ``text``."""
        if not text.strip():
            return NO_RISK
        normalised = self._normaliser.read(text)
        ends = sentence_ends(normalised)
        found = self._primary.find(normalised.text, ends)
        if not any(found):
            return NO_RISK  # no primary match: nothing for negation, hard negatives or context to keep
        return self._assess(normalised, [*found, *self._secondary.find(normalised.text, ends)])

    def band(self, text: str) -> Band:
        """``scan(text).band``, without working out where in the text each signal lies (routing needs no more)."""
        if not text.strip():
            return Band.NONE
        normalised = self._normaliser.read(text)
        ends = sentence_ends(normalised)
        found = self._primary.find(normalised.text, ends)
        if not any(found):
            return Band.NONE
        kept = self._kept(normalised, [*found, *self._secondary.find(normalised.text, ends)])
        return Band(max(rule.weight for spans in kept.values() for _, _, rule in spans)) if kept else Band.NONE

    def dismissed(self, text: str) -> bool:
        """Whether the lexicon found risk words in ``text`` and set them aside: negated, or a hard negative.

        "I don't want to die", "I used to self-harm years ago", "is this the Missing People chat?": the
        rules have read these and decided. The meaning layer (``risk_meaning``) defers to that decision.
        """
        if not text.strip():
            return False
        normalised = self._normaliser.read(text)
        ends = sentence_ends(normalised)
        found = self._primary.find(normalised.text, ends)
        if not any(found):
            return False
        found = [*found, *self._secondary.find(normalised.text, ends)]
        exclusions = self._find_exclusions(found[-1])
        return any(
            not self._keeps(span, normalised, exclusions) for spans in found[: len(self._matchers)] for span in spans
        )

    def _scan_everywhere(self, text: str) -> Assessment:
        """``scan`` the slow way: normalised in full, every matcher's full regex at every word start."""
        if not text.strip():
            return NO_RISK
        normalised = self._normaliser.normalise(text)
        ends = sentence_ends(normalised)
        return self._assess(normalised, [matcher.find_everywhere(normalised.text, ends) for matcher in self._all])

    def _assess(self, normalised: NormalisedText | AsciiText, found: Sequence[list[_Span]]) -> Assessment:
        """Steps 4 to 7 of a scan, given every matcher's matches in the order of ``_all``."""
        kept = self._kept(normalised, found)
        if not kept:
            return NO_RISK
        signals: list[Signal] = []
        for spans in kept.values():
            for start, end, rule in _merged(spans):
                original_start, original_end = normalised.original_span(start, end)
                signals.append(Signal(rule.category, rule.weight, rule.reason, original_start, original_end))
        signals.sort(key=lambda s: (s.start, CATEGORIES.index(s.category)))
        return Assessment(max(s.weight for s in signals), tuple(signals))

    def _kept(self, normalised: NormalisedText | AsciiText, found: Sequence[list[_Span]]) -> dict[str, list[_Span]]:
        """The matches that count, by category: not negated, not excluded; contextual ones beside another."""
        count = len(self._matchers)
        exclusions = self._find_exclusions(found[-1])
        kept: dict[str, list[_Span]] = {}
        for spans in found[:count]:
            for span in spans:
                if self._keeps(span, normalised, exclusions):
                    kept.setdefault(span[2].category, []).append(span)
        if not kept:
            return kept  # contextual rules count only beside a signal of another category
        present = frozenset(kept)
        for spans in found[count:-1]:
            for span in spans:
                if span[2].context & present and self._keeps(span, normalised, exclusions):
                    kept.setdefault(span[2].category, []).append(span)
        return kept

    def _keeps(self, span: _Span, normalised: NormalisedText | AsciiText, exclusions: _Exclusions) -> bool:
        """Whether a match is neither negated nor covered by a hard negative."""
        start, end, rule = span
        return not exclusions.cover(rule.category, start, end) and not self._negation.applies(normalised, start)

    def _find_exclusions(self, spans: Iterable[_Span]) -> _Exclusions:
        """The hard negatives' matches (in text order), per category they exclude."""
        starts: dict[str, list[int]] = {}
        max_ends: dict[str, list[int]] = {}
        for start, end, marker in spans:
            for category in self._exclusion_scope[marker]:
                ends = max_ends.setdefault(category, [])
                starts.setdefault(category, []).append(start)
                ends.append(max(end, ends[-1]) if ends else end)
        return _Exclusions(starts, max_ends)


def sentence_ends(normalised: NormalisedText | AsciiText) -> tuple[int, ...]:
    """Where each sentence of the normalised text ends (the space before the next one's first word), in order.

    The last end is ``len(text)``. Matching stops at these, so "He lost his phone. Police found it." is
    two sentences and no rule reads "phone police" as one phrase.
    """
    length = len(normalised.text)
    sentences = normalised.sentences
    if not sentences:
        return (length,)
    return (*sorted(offset - 1 for offset in sentences if offset <= length), length)


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

# A phrase or pattern as a regex body: the body, compiled to match whole words, and its beginnings.
_Body = tuple[str, re.Pattern[str], frozenset[str] | None]

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
        primary: dict[str, list[tuple[tuple[int, int], _Entry]]] = {c: [] for c in CATEGORIES}
        contextual: dict[str, list[tuple[tuple[int, int], _Entry]]] = {c: [] for c in CATEGORIES}
        for index, raw in enumerate(self._list("rules")):
            rule = self._rule(raw, f"rules[{index}]")
            into = contextual if rule.context else primary
            for length, body in self._bodies(raw, normaliser, f"rules[{index}]"):
                into[rule.category].append(((-rule.weight, -length), _Entry(*body, rule)))
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
        entries: list[tuple[tuple[int, int], _Entry]] = []
        scope: dict[_Rule, frozenset[str]] = {}
        for index, raw in enumerate(self._list("hard_negatives")):
            where = f"hard_negatives[{index}]"
            self._keys(raw, self._HARD_NEGATIVE_KEYS, where)
            categories = self._strings(raw.get("categories", list(CATEGORIES)), f"{where}.categories")
            if not set(categories) <= set(CATEGORIES):
                self._fail(f"{where}: categories must be among {', '.join(CATEGORIES)}")
            marker = _Rule(where, Band.NONE, where)
            scope[marker] = frozenset(categories)
            entries.extend(
                ((0, -length), _Entry(*body, marker)) for length, body in self._bodies(raw, normaliser, where)
            )
        return _compile(entries), scope

    def _bodies(self, raw: dict[str, Any], normaliser: Normaliser, where: str) -> Iterable[tuple[int, _Body]]:
        """Each phrase and pattern of one entry as a regex body, with a length for ordering."""
        phrases = self._strings(raw.get("phrases", []), f"{where}.phrases")
        patterns = self._strings(raw.get("patterns", []), f"{where}.patterns")
        if not phrases and not patterns:
            self._fail(f"{where}: give at least one phrase or pattern")
        for phrase in phrases:
            words = normaliser.phrase(phrase)
            if not words:
                self._fail(f"{where}: the phrase '{phrase}' has no letters or digits")
            pattern = re.escape(words)
            yield len(words), (pattern, _at_word_start(pattern), starts(pattern, _HEAD))
        for pattern in patterns:
            yield 0, self._checked(pattern, f"{where}.patterns")

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

    def _checked(self, written: str, where: str) -> _Body:
        """The pattern with fragments inserted and repeated letters squeezed, as the text is; compiled."""
        pattern = _squeeze(self._expand(written, where))
        try:
            beginnings = checked_starts(pattern, _HEAD)  # reads the pattern on its own
            compiled = _at_word_start(pattern)
        except re.error as exc:
            self._fail(f"{where}: '{written}' is not a valid regular expression: {exc}")
        # A conditional ``(?(1)...)`` would count groups differently alone and in the full regex.
        if compiled.groupindex or re.search(r"\\[1-9]", pattern) or "(?(" in pattern:
            self._fail(f"{where}: '{written}' may not use named groups or backreferences")
        if re.search(r"[A-Z]", _ESCAPE.sub("", pattern)):
            self._fail(f"{where}: '{written}' has capitals; patterns match lower-case text")
        return pattern, compiled, beginnings

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
        pieces.append(collapse_text(pattern[position : escape.start()]))
        pieces.append(escape.group())
        position = escape.end()
    pieces.append(collapse_text(pattern[position:]))
    return "".join(pieces)


def _at_word_start(pattern: str) -> re.Pattern[str]:
    """The pattern as the scanner tries it at a word start: matching whole words."""
    return re.compile(rf"\b(?:{pattern})\b")


def _compile(entries: list[tuple[tuple[int, int], _Entry]]) -> _Matcher:
    """One matcher over all entries, ordered by their sort key."""
    return _Matcher([entry for _, entry in sorted(entries, key=lambda keyed: keyed[0])])
