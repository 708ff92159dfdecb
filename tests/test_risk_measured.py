"""The shipped lexicon and meaning layer measured on the tuning data: the labelled messages they were tuned on.

Tuning data is tests/data/risk-messages.jsonl, tests/data/risk-paraphrases.jsonl and the training data in
tests/data/risk-train/. The classifier was trained on all of it, so its figures here are not a measure of how
well it generalises: ``scripts/train-risk`` prints cross-validated ones, and the frozen sets, which nobody tuned
against, are measured by tests/test_risk_frozen.py. Run with ``-s`` to see the tables; a failing assertion
prints them too. The floors below sit a little under the measured figures, so a change that makes triage
worse fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpline.core.risk import CATEGORIES
from tests.risk_measure import Measured, Triage, read_messages, render

DATA = Path(__file__).parent / "data"
MESSAGES = DATA / "risk-messages.jsonl"
PARAPHRASES = DATA / "risk-paraphrases.jsonl"
TRAINING = DATA / "risk-train"
# Floors, a little under what was measured (README, "Risk triage").
MIN_RECALL = {"suicide": 0.95, "immediate_danger": 0.95}
MIN_PARAPHRASE_RECALL = {"suicide": 0.95, "immediate_danger": 0.9}
MAX_FALSE_POSITIVE_RATE = {False: 0.02, True: 0.05}
# The lexicon alone on the training negatives (idioms, the past, news, medicine, the charity's names …).
MAX_TRAINING_FALSE_POSITIVE_RATE = 0.05


@pytest.fixture(scope="module")
def triage() -> Triage:
    return Triage()


@pytest.fixture(scope="module")
def messages(triage: Triage) -> Measured:
    measured = triage.measure("tuning: risk-messages.jsonl", read_messages(MESSAGES))
    print("\n" + render(measured))  # noqa: T201 - showing the measured table is this test's purpose (pytest -s)
    return measured


@pytest.fixture(scope="module")
def paraphrases(triage: Triage) -> Measured:
    measured = triage.measure("tuning: risk-paraphrases.jsonl", read_messages(PARAPHRASES))
    print("\n" + render(measured))  # noqa: T201 - as above
    return measured


@pytest.fixture(scope="module")
def training(triage: Triage) -> Measured:
    files = [TRAINING / "train-positives.jsonl", TRAINING / "train-negatives.jsonl"]
    measured = triage.measure("training: train-positives.jsonl, train-negatives.jsonl", read_messages(*files))
    print("\n" + render(measured))  # noqa: T201 - as above
    return measured


@pytest.fixture(scope="module")
def training_pairs(triage: Triage) -> Measured:
    measured = triage.measure(
        "training: train-contrast-pairs.jsonl", read_messages(TRAINING / "train-contrast-pairs.jsonl")
    )
    print("\n" + render(measured))  # noqa: T201 - as above
    return measured


def test_the_labelled_set_is_large_and_well_formed() -> None:
    """At least 300 distinct messages, every label a known category, with negatives and every category present."""
    messages = read_messages(MESSAGES)
    assert len(messages) >= 300
    assert len({m.text for m in messages}) == len(messages)
    assert all(m.categories <= set(CATEGORIES) for m in messages)
    assert sum(not m.categories for m in messages) >= 100
    assert all(any(c in m.categories for m in messages) for c in CATEGORIES)


def test_recall_for_suicide_and_immediate_danger(messages: Measured) -> None:
    """The lexicon alone finds at least 95% of the messages labelled suicide, and of those labelled immediate danger."""
    for category, floor in MIN_RECALL.items():
        assert messages.row(category, meaning=False).recall >= floor, render(messages)


def test_paraphrases_are_found_with_the_meaning_layer(paraphrases: Measured) -> None:
    """On reworded messages recall stays at its floors with the meaning layer, which never takes any away."""
    for category, floor in MIN_PARAPHRASE_RECALL.items():
        assert paraphrases.row(category, meaning=True).recall >= floor, render(paraphrases)
    for alone, both in zip(paraphrases.lexicon, paraphrases.both, strict=True):
        assert both.found >= alone.found


def test_the_classifier_adds_what_the_lexicon_has_no_words_for(training: Measured) -> None:
    """On the training positives, most of them in words the lexicon lacks, the meaning layer finds many more."""
    for category in ("suicide", "immediate_danger"):
        assert training.row(category, meaning=True).recall >= training.row(category, meaning=False).recall + 0.2


@pytest.mark.parametrize("meaning", [False, True])
def test_false_positive_rate_on_the_negatives(messages: Measured, paraphrases: Measured, meaning: bool) -> None:
    """Few unlabelled tuning messages are flagged in any one category: 2% lexicon alone, 5% with meaning."""
    for measured in (messages, paraphrases):
        for row in measured.both if meaning else measured.lexicon:
            if row.category != "any category":
                assert row.false_positive_rate <= MAX_FALSE_POSITIVE_RATE[meaning], render(measured)


def test_the_lexicon_flags_few_training_negatives(training: Measured) -> None:
    """Hard negatives (idioms, a past that is over, news, medicine, the charity's names) seldom get a lexicon flag."""
    assert training.row("any category", meaning=False).false_positive_rate <= MAX_TRAINING_FALSE_POSITIVE_RATE


def test_the_safe_side_of_a_contrast_pair_is_flagged_less_than_the_risky_side(training_pairs: Measured) -> None:
    """Of the training contrast pairs, many more risky sides than safe sides are flagged, both ways."""
    for meaning in (False, True):
        found = sum(r.found for r in (training_pairs.both if meaning else training_pairs.lexicon)[:-1])
        flagged = training_pairs.row("any category", meaning=meaning).false_positives
        assert found >= 2 * flagged, render(training_pairs)
