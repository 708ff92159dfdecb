"""The risk scanner measured on the frozen sets, and a guard that they never leak into what was tuned.

The frozen sets (tests/data/frozen/, with their README) were written from the category definitions alone by
someone who had seen neither the lexicon nor the prototypes, after both were final; they are never edited
and never tuned against. Each is measured on its own, lexicon alone and with the meaning layer; run with
``-s`` to see the tables (README, "Risk triage", shows them). The floors sit a little under the measured
figures so that a change that makes triage worse on unseen messages fails here; raising a figure by copying
a frozen sentence into the lexicon, the prototypes or the tuning data fails the first test instead.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from helpline.settings import load
from tests.risk_measure import Labelled, Measured, Triage, read_messages, render

DATA = Path(__file__).parent / "data"
FROZEN = DATA / "frozen"
POSITIVES = FROZEN / "frozen-risk-positives.jsonl"
HARD_NEGATIVES = FROZEN / "frozen-risk-hard-negatives.jsonl"
CONTRAST_PAIRS = FROZEN / "frozen-risk-contrast-pairs.jsonl"
TUNING = (DATA / "risk-messages.jsonl", DATA / "risk-paraphrases.jsonl")
# Two texts are near copies when their word sets overlap this much (Jaccard), both having 3 words or more.
NEAR_COPY = 0.75


def words(text: str) -> list[str]:
    """Lower-case words, apostrophes dropped: "I'm" and "im" are one word."""
    return re.findall(r"[a-z0-9]+", re.sub(r"['’‘`]", "", text.lower()))


def near_copy(a: str, b: str) -> bool:
    first, second = words(a), words(b)
    if first == second:
        return True
    one, two = set(first), set(second)
    return min(len(one), len(two)) >= 3 and len(one & two) / len(one | two) >= NEAR_COPY


def frozen_sentences() -> list[str]:
    sentences = [m.text for m in read_messages(POSITIVES, HARD_NEGATIVES)]
    for line in CONTRAST_PAIRS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            pair = json.loads(line)
            sentences += [pair["risk"], pair["safe"]]
    return sentences


def contrast_pairs() -> list[Labelled]:
    """Each pair as two labelled messages: the risky one with its category, the safe one with none."""
    messages = []
    for line in CONTRAST_PAIRS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            pair = json.loads(line)
            messages += [Labelled(pair["risk"], frozenset({pair["category"]})), Labelled(pair["safe"], frozenset())]
    return messages


def test_no_frozen_sentence_or_near_copy_is_in_the_lexicon_prototypes_or_tuning_data() -> None:
    """The frozen sets stay unseen: none of their sentences, nor a near copy, is in what the scanner was tuned on."""
    guard = load(environ={}).safeguarding
    prototypes = tomllib.loads(guard.prototypes_file.read_text(encoding="utf-8"))
    tuned = [m.text for m in read_messages(*TUNING)]
    tuned += [s for category in prototypes.values() for key in ("prototypes", "anchors") for s in category.get(key, [])]
    lexicon = tomllib.loads(guard.lexicon_file.read_text(encoding="utf-8"))
    tuned += [p for entry in lexicon["rules"] + lexicon["hard_negatives"] for p in entry.get("phrases", [])]
    lexicon_words = " ".join(words(guard.lexicon_file.read_text(encoding="utf-8")))
    leaks = []
    for sentence in frozen_sentences():
        leaks += [(sentence, text) for text in tuned if near_copy(sentence, text)]
        if len(words(sentence)) >= 3 and f" {' '.join(words(sentence))} " in f" {lexicon_words} ":
            leaks.append((sentence, "the lexicon file"))
    assert leaks == []


def test_the_frozen_sets_are_as_their_readme_describes() -> None:
    """319 positives, 253 hard negatives, 37 contrast pairs; no text twice."""
    sentences = frozen_sentences()
    assert (len(read_messages(POSITIVES)), len(read_messages(HARD_NEGATIVES)), len(contrast_pairs())) == (319, 253, 74)
    assert len(set(sentences)) == len(sentences)
    assert all(not m.categories for m in read_messages(HARD_NEGATIVES))


@pytest.fixture(scope="module")
def triage() -> Triage:
    return Triage()


@pytest.fixture(scope="module")
def positives(triage: Triage) -> Measured:
    measured = triage.measure("frozen: frozen-risk-positives.jsonl", read_messages(POSITIVES))
    print("\n" + render(measured))  # noqa: T201 - showing the measured table is this test's purpose (pytest -s)
    return measured


@pytest.fixture(scope="module")
def negatives(triage: Triage) -> Measured:
    measured = triage.measure("frozen: frozen-risk-hard-negatives.jsonl", read_messages(HARD_NEGATIVES))
    print("\n" + render(measured))  # noqa: T201 - as above
    return measured


@pytest.fixture(scope="module")
def pairs(triage: Triage) -> Measured:
    measured = triage.measure("frozen: frozen-risk-contrast-pairs.jsonl", contrast_pairs())
    print("\n" + render(measured))  # noqa: T201 - as above
    return measured


# Floors a little under the figures measured once, when the sets were first read (README, "Risk triage").
# The goals (recall 0.95 for suicide and immediate danger, at most 5% false positives on hard negatives)
# are not met; these floors only stop a change from making things worse.
MIN_RECALL = {
    False: {"suicide": 0.6, "immediate_danger": 0.45, "self_harm": 0.58, "missing_child": 0.75},
    True: {"suicide": 0.6, "immediate_danger": 0.48, "self_harm": 0.6, "missing_child": 0.75},
}
MAX_FALSE_POSITIVE_RATE = {"suicide": 0.05, "immediate_danger": 0.035, "missing_child": 0.06, "any category": 0.19}


@pytest.mark.parametrize("meaning", [False, True])
def test_recall_on_the_frozen_positives_does_not_fall(positives: Measured, meaning: bool) -> None:
    """Recall on the frozen positives stays at or above the floors measured, lexicon alone and with meaning."""
    for category, floor in MIN_RECALL[meaning].items():
        assert positives.row(category, meaning=meaning).recall >= floor, render(positives)


def test_the_meaning_layer_only_adds_recall(positives: Measured, pairs: Measured) -> None:
    """With the meaning layer, no category finds fewer frozen positives than the lexicon alone."""
    for measured in (positives, pairs):
        for alone, both in zip(measured.lexicon, measured.both, strict=True):
            assert both.found >= alone.found, render(measured)


@pytest.mark.parametrize("meaning", [False, True])
def test_false_positives_on_the_frozen_hard_negatives_do_not_rise(negatives: Measured, meaning: bool) -> None:
    """False positives on the frozen hard negatives stay at or under the ceilings measured."""
    for category, ceiling in MAX_FALSE_POSITIVE_RATE.items():
        assert negatives.row(category, meaning=meaning).false_positive_rate <= ceiling, render(negatives)


@pytest.mark.parametrize("meaning", [False, True])
def test_contrast_pairs_are_told_apart_as_well_as_measured(pairs: Measured, meaning: bool) -> None:
    """Of the 37 frozen pairs, at least 30 risky sides are flagged with their category and at most 14 safe sides."""
    rows = pairs.both if meaning else pairs.lexicon
    assert sum(r.found for r in rows if r.category != "any category") >= 30, render(pairs)
    assert pairs.row("any category", meaning=meaning).false_positives <= 14, render(pairs)
