"""The shipped lexicon and meaning layer measured on the tuning data: the labelled messages they were tuned on.

Tuning data is tests/data/risk-messages.jsonl and tests/data/risk-paraphrases.jsonl. The frozen sets, which
nobody tuned against, are measured by tests/test_risk_frozen.py. Run with ``-s`` to see the tables; a
failing assertion prints them too. The floors below sit a little under the measured figures, so a change
that makes triage worse fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpline.core.risk import CATEGORIES
from tests.risk_measure import Measured, Triage, read_messages, render

DATA = Path(__file__).parent / "data"
MESSAGES = DATA / "risk-messages.jsonl"
PARAPHRASES = DATA / "risk-paraphrases.jsonl"
# Floors, a little under what was measured (README, "Risk triage").
MIN_RECALL = {"suicide": 0.95, "immediate_danger": 0.95}
MIN_PARAPHRASE_RECALL = {"suicide": 0.95, "immediate_danger": 0.9}
MAX_FALSE_POSITIVE_RATE = 0.02


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


def test_paraphrases_are_found_better_with_the_meaning_layer(paraphrases: Measured) -> None:
    """On reworded messages the meaning layer adds recall the lexicon lacks, and never takes any away."""
    for category, floor in MIN_PARAPHRASE_RECALL.items():
        assert paraphrases.row(category, meaning=True).recall >= floor, render(paraphrases)
    for alone, both in zip(paraphrases.lexicon, paraphrases.both, strict=True):
        assert both.found >= alone.found
    assert sum(r.found for r in paraphrases.both) > sum(r.found for r in paraphrases.lexicon)


@pytest.mark.parametrize("meaning", [False, True])
def test_false_positive_rate_on_the_negatives(messages: Measured, paraphrases: Measured, meaning: bool) -> None:
    """At most 2% of the unlabelled messages are flagged in any one category, lexicon alone or with meaning."""
    for measured in (messages, paraphrases):
        for row in measured.both if meaning else measured.lexicon:
            if row.category != "any category":
                assert row.false_positive_rate <= MAX_FALSE_POSITIVE_RATE, render(measured)
