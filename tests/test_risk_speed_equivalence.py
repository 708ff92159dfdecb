"""The scanner's quick ways give exactly what the slow, plain ways give, for any text and any lexicon.

``RiskScanner.scan`` reads ASCII text without working out spans (``Normaliser.read``), tries at each word
only the rules that can begin there (``_Dispatch``), and stops when no primary rule matches.
``RiskScanner._scan_everywhere`` is the definition: the full normaliser, every matcher's full regex at
every word start. These tests compare the two on the shipped lexicon (so a change to a rule that the
quick ways would get wrong fails here) and on a small lexicon with unusual features.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import NoReturn

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from helpline.core.regex_starts import key, starts
from helpline.core.risk import Assessment, RiskScanner
from helpline.core.risk_text import AsciiText, NormalisedText
from helpline.errors import ConfigError

LEXICON = Path(__file__).resolve().parent.parent / "config" / "risk-lexicon.toml"
MESSAGES = Path(__file__).parent / "data" / "risk-messages.jsonl"
FUZZ = hypothesis_settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# A lexicon that drops words (abbreviations expanding to nothing), matches digits, has a contextual rule,
# a hard negative, an abbreviation equal to itself, and a negation with bridges.
ODD_LEXICON = """
[abbreviations]
lol = ""
"x!x" = ""
ok = "ok"
im = "i am"
"he'll" = "he will"
"1" = "one"
"2nite" = "tonight"
[negation]
cues = ["not", "never"]
bridge = ["i", "am", "going", "to"]
[[rules]]
category = "suicide"
weight = 2
reason = "R"
phrases = ["kill myself", "ok then"]
patterns = ['want to die', '\\d+ pils', 'one', 'i am (?:so )?done', '(?<!not )tonight']
[[rules]]
category = "immediate_danger"
weight = 3
reason = "T"
with = ["suicide"]
patterns = ['tonight', 'now']
[[hard_negatives]]
patterns = ['kil myself laughing']
"""


def read_messages() -> list[str]:
    return [json.loads(line)["text"] for line in MESSAGES.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def scanner() -> RiskScanner:
    return RiskScanner.from_toml(LEXICON.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def odd_scanner() -> RiskScanner:
    return RiskScanner.from_toml(ODD_LEXICON)


def _lexicon_words() -> list[str]:
    """Words from the shipped lexicon's phrases, patterns and abbreviations: text that meets the rules."""
    lexicon = tomllib.loads(LEXICON.read_text(encoding="utf-8"))
    words = [w for rule in lexicon["rules"] for phrase in rule.get("phrases", []) for w in phrase.split()]
    for entry in lexicon["rules"] + lexicon["hard_negatives"]:
        for pattern in entry.get("patterns", []):
            words += "".join(c if c.isalpha() or c == " " else " " for c in pattern).split()
    return sorted({*words, *lexicon["abbreviations"], *lexicon["negation"]["cues"]})


# Odd spellings the normaliser handles: capitals, stretched letters, leetspeak, contractions, numbers,
# curly apostrophes, accents, fullwidth letters, invisible characters, emoji, punctuation.
ODD_WORDS = [
    "KILL", "kiiill", "k1ll", "$elf", "h@te", "3am", "12", "٣", "I'm", "I’m", "don’t", "he'll", "hell", "lol",
    "x!x", "a!b", "kíll", "ｋｉｌｌ", "k\u200bill", "ﬁ", "ß", "😭", "❤️", "👍🏽", "“", "—", "…", "\xa0", "´", "`",
    "café",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", "  ", ", ", ". ", "! ", "? ", "\n", " - ", "", "'", "...", '." ', ".", "!"]


@st.composite
def messages(draw: st.DrawFn, words: list[str]) -> str:
    """Messages made of the given words and odd spellings, with punctuation between them."""
    parts = draw(st.lists(st.tuples(st.sampled_from(words + ODD_WORDS), st.sampled_from(SEPARATORS)), max_size=25))
    text = "".join(word + separator for word, separator in parts)
    return draw(st.sampled_from([text, text.upper(), text.capitalize()]))


def assert_same_reading(normaliser_text: NormalisedText, read: NormalisedText | AsciiText) -> None:
    """``read`` gives ``normalise``'s text, clauses and every character's original span."""
    assert read.text == normaliser_text.text
    assert read.clauses == normaliser_text.clauses
    assert read.sentences == normaliser_text.sentences
    for index in range(len(normaliser_text.text)):
        expected = (normaliser_text.starts[index], normaliser_text.ends[index])
        assert read.original_span(index, index + 1) == expected, index


def assert_same_scan(scanner: RiskScanner, text: str) -> Assessment:
    quick = scanner.scan(text)
    assert quick == scanner._scan_everywhere(text), text
    assert scanner.band(text) == quick.band, text  # what routing asks for, without the spans
    return quick


# --- the shipped lexicon ----------------------------------------------------------------------------------


def test_every_labelled_message_scans_the_same_both_ways(scanner: RiskScanner) -> None:
    """On every message of the labelled set, the quick scan equals the full one, signal for signal."""
    flagged = sum(bool(assert_same_scan(scanner, text).signals) for text in read_messages())
    assert flagged > 300  # the comparison covers messages with signals, not only quiet ones


def test_every_labelled_message_reads_the_same_both_ways(scanner: RiskScanner) -> None:
    """The quick reading of each labelled message has the full normaliser's text, clauses and spans."""
    normaliser = scanner._normaliser
    for text in read_messages():
        assert_same_reading(normaliser.normalise(text), normaliser.read(text))


@FUZZ
@given(text=messages(_lexicon_words()))
def test_any_message_of_lexicon_words_scans_the_same_both_ways(scanner: RiskScanner, text: str) -> None:
    """Text made of the lexicon's own words, spelt oddly, scans the same quickly and fully."""
    assert_same_scan(scanner, text)
    assert_same_reading(scanner._normaliser.normalise(text), scanner._normaliser.read(text))


@FUZZ
@given(text=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80))
def test_any_text_at_all_scans_the_same_both_ways(scanner: RiskScanner, text: str) -> None:
    """Arbitrary Unicode text too."""
    assert_same_scan(scanner, text)
    assert_same_reading(scanner._normaliser.normalise(text), scanner._normaliser.read(text))


def test_each_matcher_finds_by_lookup_what_its_full_regex_finds(scanner: RiskScanner) -> None:
    """Trying only the rules that can begin at a word gives every matcher's full-regex matches exactly."""
    for text in read_messages():
        words = scanner._normaliser.normalise(text).text
        for matcher in scanner._all:
            assert matcher.find(words) == matcher.find_everywhere(words), text


def test_a_scan_compiles_no_regex(scanner: RiskScanner, monkeypatch: pytest.MonkeyPatch) -> None:
    """Everything is compiled with the scanner: scanning, even messages never seen, compiles nothing."""

    def refuse(*args: object) -> NoReturn:
        raise AssertionError(f"compiled during a scan: {args!r}")

    monkeypatch.setattr(re, "_compile", refuse)  # what re.compile, re.search, re.sub … all go through
    for text in [*read_messages(), "Ｉ ｗａｎｔ ｔｏ ｄｉｅ", "k1ll mys3lf 2nite", "٣ pills"]:
        scanner.scan(text)


def test_a_plain_message_reads_quickly(scanner: RiskScanner) -> None:
    """ASCII text, and text whose other characters stand in for ASCII ones, take the quick reading."""
    normaliser = scanner._normaliser
    assert isinstance(normaliser.read("Please can someone help, I’m worried 😭"), AsciiText)
    assert isinstance(normaliser.read("café"), NormalisedText)


# --- an unusual lexicon -----------------------------------------------------------------------------------


@FUZZ
@given(
    text=messages(["kill", "myself", "laughing", "want", "to", "die", "12", "pills", "i", "am", "so", "done"])
    | messages(["not", "never", "going", "tonight", "now", "then", "ok", "OK", "im", "1", "2nite", "lol", "x!X"])
)
def test_a_lexicon_that_drops_words_scans_the_same_both_ways(odd_scanner: RiskScanner, text: str) -> None:
    """Words an abbreviation drops, digits, lookbehinds, context and hard negatives: still the same."""
    assert_same_scan(odd_scanner, text)
    assert_same_reading(odd_scanner._normaliser.normalise(text), odd_scanner._normaliser.read(text))


def test_a_dropped_word_after_a_clause_break_still_marks_the_clause(odd_scanner: RiskScanner) -> None:
    """ "lol" expands to nothing; the clause break before it still stops the negation, both ways."""
    text = "not going. lol tonight"
    normalised = odd_scanner._normaliser.normalise(text)
    assert normalised.text == "not going tonight"
    assert normalised.clauses == {normalised.text.index("tonight")}
    assert_same_reading(normalised, odd_scanner._normaliser.read(text))
    assert [s.category for s in assert_same_scan(odd_scanner, text).signals] == ["suicide", "immediate_danger"]
    assert assert_same_scan(odd_scanner, "not going lol tonight").signals == ()  # negated


def test_a_pattern_with_a_group_condition_is_refused() -> None:
    """A ``(?(1)...)`` conditional would count groups differently in the quick and the full regex."""
    rule = '[[rules]]\ncategory = "abuse"\nweight = 2\nreason = "R"\npatterns = ["(a)?(?(1)b|c)"]\n'
    with pytest.raises(ConfigError, match="named groups or backreferences"):
        RiskScanner.from_toml(rule)


# --- beginnings --------------------------------------------------------------------------------------------


def test_beginnings_spell_digits_as_zero_and_pass_over_lookarounds() -> None:
    """``\\d`` and literal digits begin ``0``, as ``key`` spells a text's digits; lookarounds match nothing."""
    assert starts(r"\d+ pils") == frozenset({"0"})
    assert starts(r"1[0-7] but", 4) == frozenset({"00 b"})
    assert starts(r"(?<!if )(?:i|she) ran", 3) == frozenset({"i r", "she"})
    assert key("at 3am i took ٢٠") == "at 0am i took 00"


def test_longer_beginnings_stop_where_they_cannot_be_worked_out() -> None:
    """Up to ``length`` characters; shorter where a pattern may end, repeat, or go on with ``\\w``."""
    assert starts(r"kil(?:ed|ing)? my", 6) == frozenset({"kiled", "kiling", "kil my"})
    assert starts(r"kms", 6) == frozenset({"kms"})
    assert starts(r"my \w+ hit", 6) == frozenset({"my "})
