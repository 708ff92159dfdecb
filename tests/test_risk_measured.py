"""The shipped lexicon measured against the labelled messages in tests/data/risk-messages.jsonl.

Recall per category is the share of messages labelled with it that the scanner flags with it; the
false-positive rate per category is the share of negatives (messages with no label) flagged with it.
Run with ``-s`` to see the table; a failing assertion prints it too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpline.core.risk import CATEGORIES, RiskScanner
from helpline.settings import load

DATA = Path(__file__).parent / "data" / "risk-messages.jsonl"
MIN_RECALL = {"suicide": 0.9, "immediate_danger": 0.9}
MAX_FALSE_POSITIVE_RATE = 0.1


@dataclass(frozen=True)
class Labelled:
    text: str
    categories: frozenset[str]


@dataclass(frozen=True)
class Row:
    category: str
    positives: int
    found: int
    negatives: int
    false_positives: int

    @property
    def recall(self) -> float:
        return self.found / self.positives if self.positives else 1.0

    @property
    def false_positive_rate(self) -> float:
        return self.false_positives / self.negatives if self.negatives else 0.0


def read_messages() -> list[Labelled]:
    messages = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            messages.append(Labelled(item["text"], frozenset(item["categories"])))
    return messages


@pytest.fixture(scope="module")
def table() -> list[Row]:
    scanner = RiskScanner.from_toml(load(environ={}).safeguarding.lexicon_file.read_text(encoding="utf-8"))
    messages = read_messages()
    flagged = [frozenset(s.category for s in scanner.scan(m.text).signals) for m in messages]
    negatives = [found for m, found in zip(messages, flagged, strict=True) if not m.categories]
    rows = []
    for category in CATEGORIES:
        labelled = [found for m, found in zip(messages, flagged, strict=True) if category in m.categories]
        rows.append(
            Row(
                category,
                positives=len(labelled),
                found=sum(category in found for found in labelled),
                negatives=len(negatives),
                false_positives=sum(category in found for found in negatives),
            )
        )
    rows.append(Row("any category", 0, 0, len(negatives), sum(bool(found) for found in negatives)))
    print("\n" + render(rows))  # noqa: T201 - showing the measured table is this test's purpose (pytest -s)
    return rows


def render(rows: list[Row]) -> str:
    lines = [f"{'category':18} {'recall':>16} {'false positives':>22}"]
    for row in rows:
        recall = f"{row.found}/{row.positives} = {row.recall:.2f}" if row.positives else "-"
        false_positives = f"{row.false_positives}/{row.negatives} = {row.false_positive_rate:.3f}"
        lines.append(f"{row.category:18} {recall:>16} {false_positives:>22}")
    return "\n".join(lines)


def test_the_labelled_set_is_large_and_well_formed() -> None:
    """At least 300 distinct messages, every label a known category, with negatives and every category present."""
    messages = read_messages()
    assert len(messages) >= 300
    assert len({m.text for m in messages}) == len(messages)
    assert all(m.categories <= set(CATEGORIES) for m in messages)
    assert sum(not m.categories for m in messages) >= 100
    assert all(any(c in m.categories for m in messages) for c in CATEGORIES)


def test_recall_for_suicide_and_immediate_danger(table: list[Row]) -> None:
    """The scanner finds at least 90% of the messages labelled suicide, and of those labelled immediate danger."""
    for row in table:
        if row.category in MIN_RECALL:
            assert row.recall >= MIN_RECALL[row.category], f"{row.category} recall too low\n{render(table)}"


def test_false_positive_rate_on_the_negatives(table: list[Row]) -> None:
    """At most 10% of the unlabelled messages are flagged, in any one category or in all of them together."""
    for row in table:
        assert row.false_positive_rate <= MAX_FALSE_POSITIVE_RATE, (
            f"{row.category} flags too many negatives\n{render(table)}"
        )
