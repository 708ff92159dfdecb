"""The risk scanner tries only the rules that can begin where a word begins, and finds what the full regex finds."""

from __future__ import annotations

import random
import re
import tomllib
from pathlib import Path

import pytest

from helpline.core.regex_starts import starts
from helpline.core.risk import RiskScanner, _Matcher

LEXICON = Path(__file__).resolve().parent.parent / "config" / "risk-lexicon.toml"


def test_beginnings_of_literals_alternations_and_optional_parts() -> None:
    """Two characters where they are fixed, one where the second could be anything, None where nothing is."""
    assert starts(r"kill me") == frozenset({"ki"})
    assert starts(r"(?:took|taken|od)\b") == frozenset({"to", "ta", "od"})
    assert starts(r"s ?h") == frozenset({"s ", "sh"})
    assert starts(r"i\b") == frozenset({"i"})
    assert starts(r"a\w+") == frozenset({"a"})
    assert starts(r"\w+ing") is None
    assert starts(r"(?:not )?kil") == frozenset({"no", "ki"})
    assert starts(r"x*") is None
    assert starts(r"(?i:abc)") is None


def _full_regex_matches(matcher: _Matcher, text: str) -> list[tuple[int, int, object]]:
    found: list[tuple[int, int, object]] = []
    for match in matcher.regex.finditer(text):
        if match.lastgroup is not None:
            start, end = match.span(match.lastgroup)
            found.append((start, end, matcher.rules[match.lastgroup]))
    return found


@pytest.fixture(scope="module")
def scanner() -> RiskScanner:
    return RiskScanner.from_toml(LEXICON.read_text(encoding="utf-8"))


def test_dispatch_finds_what_the_full_regex_finds(scanner: RiskScanner) -> None:
    """On text made of the lexicon's own words, every matcher finds exactly the full regex's matches."""
    lexicon = tomllib.loads(LEXICON.read_text(encoding="utf-8"))
    words = [w for rule in lexicon.get("rules", []) for p in rule.get("phrases", []) for w in p.split()]
    words += ["not", "never", "i", "my", "tonight", "kil", "myself", "lol", "12", "3am", "sh", "od"]
    rng = random.Random(8)  # noqa: S311 - reproducible test text, not a secret
    matchers = [*scanner._matchers, *scanner._contextual, scanner._exclusions]
    for _ in range(400):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 25))).lower()
        text = re.sub(r"[^\w ]", "", text)
        for matcher in matchers:
            assert list[tuple[int, int, object]](matcher.find(text)) == _full_regex_matches(matcher, text), text
