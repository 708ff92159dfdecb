"""Recall and false positives of the risk scanner on a labelled set, lexicon alone and with the meaning layer.

A labelled set is JSON lines: ``{"text": ..., "categories": [...]}``; no category means a negative (often a
hard one: an idiom, the past, a question about medicine, the charity's own name). Recall per category is
the share of messages labelled with it that are flagged with it; the false-positive rate per category is
the share of negatives flagged with it. A flag is a prompt for a volunteer, never a verdict.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from helpline.core.risk import CATEGORIES, RiskScanner
from helpline.core.risk_meaning import MeaningReader, Prototypes
from helpline.semantic.model import Unavailable, installed_files, load_model
from helpline.settings import load


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


@dataclass(frozen=True)
class Measured:
    """One set's table, lexicon alone and lexicon with the meaning layer."""

    name: str
    lexicon: list[Row]
    both: list[Row]

    def row(self, category: str, *, meaning: bool) -> Row:
        return next(r for r in (self.both if meaning else self.lexicon) if r.category == category)


def read_messages(*paths: Path) -> list[Labelled]:
    """Labelled messages; a contrast pair (``{"risk", "safe", "category"}``) gives its risky side labelled, its safe
    side not."""
    messages = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                if "risk" in item:
                    messages.append(Labelled(item["risk"], frozenset({item["category"]})))
                    messages.append(Labelled(item["safe"], frozenset()))
                else:
                    messages.append(Labelled(item["text"], frozenset(item["categories"])))
    return messages


class Triage:
    """The shipped lexicon (with the configured known names) and meaning layer, as the server builds them."""

    def __init__(self) -> None:
        guard = load(environ={}).safeguarding
        self.scanner = RiskScanner.from_toml(
            guard.lexicon_file.read_text(encoding="utf-8"), known_names=guard.known_names
        )
        model = load_model(installed_files())
        assert not isinstance(model, Unavailable), model
        prototypes = Prototypes.from_toml(guard.prototypes_file.read_text(encoding="utf-8"))
        self.reader = MeaningReader(model, prototypes, self.scanner)

    def measure(self, name: str, messages: Sequence[Labelled]) -> Measured:
        lexicon = [frozenset(s.category for s in self.scanner.scan(m.text).signals) for m in messages]
        meaning = [frozenset(x.category for x in self.reader.read(m.text)) for m in messages]
        both = [a | b for a, b in zip(lexicon, meaning, strict=True)]
        return Measured(name, table(messages, lexicon), table(messages, both))


def table(messages: Sequence[Labelled], flagged: Sequence[frozenset[str]]) -> list[Row]:
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
    return rows


def render(measured: Measured) -> str:
    """The table as README shows it (Markdown)."""
    lines = [
        f"{measured.name}",
        "",
        "| category | recall, lexicon | recall, + meaning | false positives, lexicon | false positives, + meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for alone, both in zip(measured.lexicon, measured.both, strict=True):
        recall = [f"{r.found}/{r.positives} = {r.recall:.2f}" if r.positives else "–" for r in (alone, both)]
        false = [f"{r.false_positives}/{r.negatives} = {r.false_positive_rate:.3f}" for r in (alone, both)]
        lines.append(f"| {alone.category} | {recall[0]} | {recall[1]} | {false[0]} | {false[1]} |")
    return "\n".join(lines)
