"""The risk scanner measured on the frozen sets, and a guard that they never leak into what was tuned or trained.

The frozen sets (tests/data/frozen/, with their README) are written from the category definitions alone by
someone who has seen neither the lexicon, the prototypes nor the training data, and copied in only once
those are final; they are never edited and never tuned against. A set is the files sharing a prefix,
``<prefix>-risk-<kind>.jsonl`` (``frozen-risk-positives.jsonl``, ``frozen2-risk-hard-negatives.jsonl``, …),
found by that pattern. Each file is measured on its own, lexicon alone and with the meaning layer; run with
``-s`` to see the tables (README, "Risk triage", shows them). A set with floors (``FLOORS``) fails when a
change makes triage on it worse; a set without floors is only measured and printed. Raising a figure by
copying a frozen sentence, or a near copy, into the lexicon, the prototypes, the tuning data or the
classifier's training data fails the first test instead.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpline.settings import load
from tests.risk_measure import Measured, Triage, read_messages, render

DATA = Path(__file__).parent / "data"
FROZEN = DATA / "frozen"
# Everything the lexicon, the prototypes and the classifier were written or trained against.
TUNING = (DATA / "risk-messages.jsonl", DATA / "risk-paraphrases.jsonl", *sorted((DATA / "risk-train").glob("*.jsonl")))
# Two texts are near copies when their word sets overlap this much (Jaccard), both having 3 words or more.
NEAR_COPY = 0.75
_SET_FILE = re.compile(r"^(?P<prefix>[a-z0-9]+)-risk-(?P<kind>[a-z-]+)\.jsonl$")


def frozen_sets() -> dict[str, list[Path]]:
    """Each frozen set's files, by the set's prefix ("frozen", "frozen2", …)."""
    sets: dict[str, list[Path]] = {}
    for path in sorted(FROZEN.glob("*-risk-*.jsonl")):
        found = _SET_FILE.match(path.name)
        if found is not None:
            sets.setdefault(found.group("prefix"), []).append(path)
    return sets


def words(text: str) -> list[str]:
    """Lower-case words, apostrophes dropped: "I'm" and "im" are one word."""
    return re.findall(r"[a-z0-9]+", re.sub(r"['’‘`]", "", text.lower()))


def frozen_sentences() -> list[str]:
    return [m.text for paths in frozen_sets().values() for path in paths for m in read_messages(path)]


def tuned_texts() -> list[str]:
    guard = load(environ={}).safeguarding
    prototypes = tomllib.loads(guard.prototypes_file.read_text(encoding="utf-8"))
    tuned = [m.text for path in TUNING for m in read_messages(path)]
    tuned += [s for category in prototypes.values() for s in category.get("prototypes", [])]
    lexicon = tomllib.loads(guard.lexicon_file.read_text(encoding="utf-8"))
    tuned += [p for entry in lexicon["rules"] + lexicon["hard_negatives"] for p in entry.get("phrases", [])]
    return tuned


def near_copies(frozen: Iterable[str], tuned: Iterable[str]) -> list[tuple[str, str]]:
    """Each (frozen, tuned) pair whose words are the same, or whose word sets overlap by ``NEAR_COPY``."""
    known = [(text, words(text)) for text in tuned]
    known_sets = [(text, split, set(split)) for text, split in known]
    found = []
    for sentence in frozen:
        split = words(sentence)
        one = set(split)
        for text, other, two in known_sets:
            if split == other or (min(len(one), len(two)) >= 3 and len(one & two) / len(one | two) >= NEAR_COPY):
                found.append((sentence, text))
    return found


def test_no_frozen_sentence_or_near_copy_is_in_the_lexicon_prototypes_tuning_or_training_data() -> None:
    """The frozen sets stay unseen: none of their sentences, nor a near copy, is in what the scanner was tuned on."""
    guard = load(environ={}).safeguarding
    leaks = near_copies(frozen_sentences(), tuned_texts())
    lexicon_words = f" {' '.join(words(guard.lexicon_file.read_text(encoding='utf-8')))} "
    for sentence in frozen_sentences():
        if len(words(sentence)) >= 3 and f" {' '.join(words(sentence))} " in lexicon_words:
            leaks.append((sentence, "the lexicon file"))
    assert leaks == []


def test_the_guard_reads_every_tuning_and_training_file() -> None:
    """Every labelled file under tests/data (the frozen ones aside) is among those the guard compares with."""
    labelled = {p for p in DATA.rglob("*.jsonl") if FROZEN not in p.parents}
    assert labelled == set(TUNING)
    assert near_copies(["I really want to end my life"], ["i really want to end my life now"])


def test_the_first_frozen_set_is_as_its_readme_describes() -> None:
    """319 positives, 253 hard negatives, 37 contrast pairs; no text twice; every set has files."""
    first = {path.name: read_messages(path) for path in frozen_sets()["frozen"]}
    positives = first["frozen-risk-positives.jsonl"]
    negatives = first["frozen-risk-hard-negatives.jsonl"]
    pairs = first["frozen-risk-contrast-pairs.jsonl"]
    assert (len(positives), len(negatives), len(pairs)) == (319, 253, 74)
    sentences = [m.text for messages in first.values() for m in messages]
    assert len(set(sentences)) == len(sentences)
    assert all(not m.categories for m in negatives)


@pytest.fixture(scope="module")
def triage() -> Triage:
    return Triage()


@pytest.fixture(scope="module")
def measured(triage: Triage) -> dict[str, Measured]:
    """Every file of every frozen set measured, each table printed (pytest -s), by file name."""
    tables = {}
    for paths in frozen_sets().values():
        for path in paths:
            tables[path.name] = triage.measure(f"frozen: {path.name}", read_messages(path))
            print("\n" + render(tables[path.name]))  # noqa: T201 - showing the tables is this test's purpose
    return tables


@dataclass(frozen=True)
class Floors:
    """One set's floors: the least recall per category on its positives (lexicon alone, with meaning), the most
    false positives per category on its hard negatives, and of its contrast pairs the least risky sides found
    and the most safe sides flagged."""

    recall: dict[bool, dict[str, float]]
    false_positive_rate: dict[str, float]
    pairs: tuple[int, int]


# Floors a little under the figures measured when each set was first read with the shipped lexicon and classifier
# (README, "Risk triage"); a set without floors here is only measured and printed. The goals (recall 0.95 for
# suicide and immediate danger, at most 5% false positives on hard negatives) are not met; these floors only
# stop a change from making things worse.
FLOORS = {
    "frozen": Floors(
        recall={
            False: {"suicide": 0.6, "immediate_danger": 0.45, "self_harm": 0.58, "missing_child": 0.75},
            True: {
                "suicide": 0.85,
                "immediate_danger": 0.7,
                "self_harm": 0.82,
                "abuse": 0.75,
                "exploitation": 0.8,
                "trafficking": 0.86,
                "missing_child": 0.9,
            },
        },
        false_positive_rate={"suicide": 0.055, "immediate_danger": 0.03, "missing_child": 0.05, "any category": 0.19},
        pairs=(30, 14),
    ),
    "frozen2": Floors(
        recall={
            False: {"suicide": 0.28, "immediate_danger": 0.37, "self_harm": 0.36, "missing_child": 0.54},
            True: {
                "suicide": 0.6,
                "immediate_danger": 0.61,
                "self_harm": 0.63,
                "abuse": 0.55,
                "exploitation": 0.82,
                "trafficking": 0.85,
                "missing_child": 0.65,
            },
        },
        false_positive_rate={"suicide": 0.05, "immediate_danger": 0.04, "missing_child": 0.03, "any category": 0.19},
        pairs=(31, 25),
    ),
}


def test_every_frozen_set_is_measured(measured: dict[str, Measured]) -> None:
    """Every set's files are read and measured; the meaning layer never takes recall away."""
    assert set(measured) == {path.name for paths in frozen_sets().values() for path in paths}
    for table in measured.values():
        for alone, both in zip(table.lexicon, table.both, strict=True):
            assert both.found >= alone.found, render(table)


@pytest.mark.parametrize("meaning", [False, True])
@pytest.mark.parametrize("prefix", sorted(FLOORS))
def test_recall_on_the_frozen_positives_does_not_fall(
    measured: dict[str, Measured], prefix: str, meaning: bool
) -> None:
    """Recall on a set's positives stays at or above its floors, lexicon alone and with meaning."""
    table = measured[f"{prefix}-risk-positives.jsonl"]
    for category, floor in FLOORS[prefix].recall[meaning].items():
        assert table.row(category, meaning=meaning).recall >= floor, render(table)


@pytest.mark.parametrize("meaning", [False, True])
@pytest.mark.parametrize("prefix", sorted(FLOORS))
def test_false_positives_on_the_frozen_hard_negatives_do_not_rise(
    measured: dict[str, Measured], prefix: str, meaning: bool
) -> None:
    """False positives on a set's hard negatives stay at or under its ceilings."""
    table = measured[f"{prefix}-risk-hard-negatives.jsonl"]
    for category, ceiling in FLOORS[prefix].false_positive_rate.items():
        assert table.row(category, meaning=meaning).false_positive_rate <= ceiling, render(table)


@pytest.mark.parametrize("meaning", [False, True])
@pytest.mark.parametrize("prefix", sorted(FLOORS))
def test_contrast_pairs_are_told_apart_as_well_as_measured(
    measured: dict[str, Measured], prefix: str, meaning: bool
) -> None:
    """Of a set's contrast pairs, at least so many risky sides are flagged with their category, at most so many safe."""
    table = measured[f"{prefix}-risk-contrast-pairs.jsonl"]
    found, flagged = FLOORS[prefix].pairs
    rows = table.both if meaning else table.lexicon
    assert sum(r.found for r in rows if r.category != "any category") >= found, render(table)
    assert table.row("any category", meaning=meaning).false_positives <= flagged, render(table)
