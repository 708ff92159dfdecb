"""Training the meaning layer's classifier (``scripts/train-risk``): weights and thresholds from labelled messages.

The data is JSON lines of labelled messages (``{"text": ..., "categories": [...]}``, no category for a
negative) or contrast pairs (``{"risk": ..., "safe": ..., "category": ...}``: the risky side labelled, the safe
side a negative), and the prototypes of ``config/risk-prototypes.toml``, each an example of its category.
Every message is read as the server reads it (``risk_meaning.texts_to_read``: the sentences the lexicon did
not set aside, and all of them together), each text embedded by the shipped model.

The training rows: a labelled message's whole text (what it says as a whole), and every text of a negative
(no sentence of it should count). One logistic regression per category, one against the rest, fitted by
Newton's method with an L2 penalty; positives weighted so that each category's positives weigh as much as
the rest, so that a rare category is not ignored.

The thresholds come from 5-fold cross-validation over messages (folds drawn with a fixed seed, so the run is
reproducible): each message is scored by a model that never saw it, as its most probable text, and each
category's threshold is the lowest at which at most ``budget`` of the negatives would count. The
cross-validated recall and false positives are printed, per category, for the classifier alone, the lexicon
alone, and both (the lexicon's flags or the classifier's): README, "Risk triage", reports them.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from helpline.core.risk import CATEGORIES, RiskScanner
from helpline.core.risk_meaning import texts_to_read
from helpline.semantic.classifier import CLASSIFIER_FILE, FORMAT, sha256_of
from helpline.semantic.model import Unavailable, installed_files, load_embedder
from helpline.semantic.onnx import OnnxEmbedder, probabilities
from helpline.settings import load

Floats = npt.NDArray[np.float64]

SEED = 20261206
FOLDS = 5
# The L2 penalty on the weights (not the bias), in units of the (reweighted) examples' total weight.
L2 = 0.1
# The share of negatives a category's classifier may flag in cross-validation, which sets its threshold:
# more for suicide and immediate danger, where a miss costs most.
BUDGET = {c: 0.02 if c in ("suicide", "immediate_danger") else 0.01 for c in CATEGORIES}
DEFAULT_DATA = (
    Path("tests/data/risk-messages.jsonl"),
    Path("tests/data/risk-paraphrases.jsonl"),
    Path("tests/data/risk-train"),
)


@dataclass(frozen=True)
class Example:
    """One labelled message, and the file it came from."""

    text: str
    categories: frozenset[str]
    source: str


def read_examples(paths: Iterable[Path]) -> list[Example]:
    """Every labelled message of the files (a folder: its ``*.jsonl``), one per distinct text, labels united."""
    found: dict[str, Example] = {}
    for path in paths:
        for file in sorted(path.glob("*.jsonl")) if path.is_dir() else [path]:
            for line in file.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                item = json.loads(line)
                if "risk" in item:
                    pairs = [(item["risk"], {item["category"]}), (item["safe"], set())]
                else:
                    pairs = [(item["text"], set(item["categories"]))]
                for text, categories in pairs:
                    _add(found, Example(text, frozenset(categories), file.name))
    return list(found.values())


def prototype_examples(prototypes_file: Path) -> list[Example]:
    """Each prototype sentence as an example of its category."""
    data = tomllib.loads(prototypes_file.read_text(encoding="utf-8"))
    return [
        Example(text, frozenset({category}), prototypes_file.name)
        for category, raw in data.items()
        for text in raw.get("prototypes", [])
    ]


def _add(found: dict[str, Example], example: Example) -> None:
    known = found.get(example.text)
    if known is not None:
        example = Example(example.text, known.categories | example.categories, known.source)
    found[example.text] = example


@dataclass
class Dataset:
    """The messages, the texts each is read as, their embeddings, and the labels as a 0/1 matrix."""

    examples: list[Example]
    texts: list[list[int]]  # per message, the rows of ``embedded`` it is read as (the whole text last)
    embedded: Floats
    labels: Floats  # one row per message, one column per category

    @classmethod
    def build(cls, examples: Sequence[Example], scanner: RiskScanner, embedder: OnnxEmbedder) -> Dataset:
        rows: dict[str, int] = {}
        texts = []
        for example in examples:
            texts.append([rows.setdefault(t, len(rows)) for t in texts_to_read(example.text, scanner)])
        unique = list(rows)
        blocks = [embedder.embed(unique[i : i + 64]) for i in range(0, len(unique), 64)]
        embedded = np.vstack(blocks).astype(np.float64) if blocks else np.zeros((0, 384))
        labels = np.array([[c in e.categories for c in CATEGORIES] for e in examples], dtype=np.float64)
        return cls(list(examples), texts, embedded, labels)

    def training_rows(self, messages: Iterable[int]) -> tuple[Floats, Floats]:
        """The rows to fit on: a labelled message's whole text, every text of a negative."""
        xs: list[int] = []
        ys: list[Floats] = []
        for m in messages:
            rows = self.texts[m]
            if not rows:
                continue  # every sentence set aside by the lexicon: the classifier never sees it
            chosen = rows[-1:] if self.labels[m].any() else rows
            xs += chosen
            ys += [self.labels[m]] * len(chosen)
        return self.embedded[xs], np.array(ys)

    def scores(self, messages: Iterable[int], weights: Floats, biases: Floats) -> Floats:
        """Each message's probability per category: that of its most probable text (0 with none)."""
        out = []
        for m in messages:
            rows = self.texts[m]
            if rows:
                out.append(probabilities(self.embedded[rows], weights, biases).max(axis=0))
            else:
                out.append(np.zeros(len(CATEGORIES)))
        return np.array(out, dtype=np.float64)


def fit(x: Floats, y: Floats, l2: float = L2) -> tuple[Floats, Floats]:
    """One logistic regression per column of ``y``: weights (dimensions × categories) and biases."""
    weights = np.zeros((x.shape[1], y.shape[1]))
    biases = np.zeros(y.shape[1])
    for column in range(y.shape[1]):
        weights[:, column], biases[column] = _fit_one(x, y[:, column], l2)
    return weights, biases


def _fit_one(x: Floats, y: Floats, l2: float) -> tuple[Floats, float]:
    """Newton's method on the weighted, L2-penalised log loss; positives weigh as much as negatives in all."""
    n, d = x.shape
    positives = float(y.sum())
    if positives in (0, n):
        return np.zeros(d), -30.0 if positives == 0 else 30.0
    weight = np.where(y > 0, (n - positives) / positives, 1.0)
    weight *= n / weight.sum()
    design = np.hstack([x, np.ones((n, 1))])
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0  # the bias is not penalised
    theta = np.zeros(d + 1)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ theta, -30, 30)))
        gradient = design.T @ (weight * (p - y)) + penalty * theta
        curvature = weight * p * (1 - p)
        hessian = (design * curvature[:, None]).T @ design + np.diag(penalty) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if float(np.abs(step).max()) < 1e-7:
            break
    return theta[:d], float(theta[d])


def folds(count: int, seed: int = SEED, k: int = FOLDS) -> list[npt.NDArray[np.int64]]:
    """The messages split into ``k`` folds at random, the same every run."""
    order = np.random.default_rng(seed).permutation(count)
    return [order[i::k] for i in range(k)]


def cross_validated(data: Dataset, seed: int = SEED, l2: float = L2) -> Floats:
    """Each message's probabilities from a model trained on the other folds."""
    scores = np.zeros((len(data.examples), len(CATEGORIES)))
    for held in folds(len(data.examples), seed):
        held_set = set(held.tolist())
        trained = [m for m in range(len(data.examples)) if m not in held_set]
        weights, biases = fit(*data.training_rows(trained), l2)
        scores[held] = data.scores(held, weights, biases)
    return scores


def thresholds(scores: Floats, labels: Floats, budget: dict[str, float]) -> dict[str, float]:
    """Per category, the lowest threshold at which at most ``budget`` of the negatives count."""
    negative = ~labels.any(axis=1)
    chosen = {}
    for index, category in enumerate(CATEGORIES):
        ranked = np.sort(scores[negative, index])[::-1]
        allowed = math.floor(budget[category] * len(ranked))
        # Just above the first negative past the budget: it and every lower one stay unflagged.
        above = float(ranked[allowed]) if allowed < len(ranked) else 0.0
        chosen[category] = round(min(max(above + 1e-4, 0.05), 0.999), 4)
    return chosen


@dataclass(frozen=True)
class Figures:
    """Cross-validated recall and false positives of one category: classifier, lexicon, either."""

    category: str
    positives: int
    found: tuple[int, int, int]
    negatives: int
    false_positives: tuple[int, int, int]


def figures(data: Dataset, flagged: Floats, lexicon: Floats) -> list[Figures]:
    """Recall over the labelled messages and false positives over the negatives, per category and "any"."""
    negative = ~data.labels.any(axis=1)
    either = np.maximum(flagged, lexicon)
    out = []
    for index, category in enumerate(CATEGORIES):
        labelled = data.labels[:, index] > 0
        ways = (flagged, lexicon, either)
        out.append(
            Figures(
                category,
                int(labelled.sum()),
                tuple(int(w[labelled, index].sum()) for w in ways),  # type: ignore[arg-type]
                int(negative.sum()),
                tuple(int(w[negative, index].sum()) for w in ways),  # type: ignore[arg-type]
            )
        )
    any_false = tuple(int(w[negative].any(axis=1).sum()) for w in (flagged, lexicon, either))
    out.append(Figures("any category", 0, (0, 0, 0), int(negative.sum()), any_false))  # type: ignore[arg-type]
    return out


def render(rows: Sequence[Figures], title: str) -> str:
    lines = [
        title,
        "",
        "| category | recall: classifier | lexicon | either | false positives: classifier | lexicon | either |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        recall = [f"{f}/{row.positives} = {f / row.positives:.3f}" if row.positives else "–" for f in row.found]
        false = [f"{f}/{row.negatives} = {f / row.negatives:.3f}" for f in row.false_positives]
        lines.append(f"| {row.category} | {' | '.join(recall)} | {' | '.join(false)} |")
    return "\n".join(lines)


def train(paths: Sequence[Path], out: Path, *, seed: int = SEED, l2: float = L2) -> str:
    """Train, cross-validate, write the weights file; returns the report to print."""
    guard = load(environ={}).safeguarding
    scanner = RiskScanner.from_toml(guard.lexicon_file.read_text(encoding="utf-8"), known_names=guard.known_names)
    files = installed_files()
    embedder = load_embedder(files)
    if isinstance(embedder, Unavailable) or isinstance(files, Unavailable):
        raise SystemExit(f"cannot train: {getattr(embedder, 'reason', 'the model is unavailable')}")
    found = {e.text: e for e in read_examples(paths)}
    for example in prototype_examples(guard.prototypes_file):
        _add(found, example)
    examples = list(found.values())
    data = Dataset.build(examples, scanner, embedder)
    scores = cross_validated(data, seed, l2)
    chosen = thresholds(scores, data.labels, BUDGET)
    flagged = np.array([[s[i] >= chosen[c] for i, c in enumerate(CATEGORIES)] for s in scores], dtype=np.float64)
    lexicon = np.array(
        [[c in {s.category for s in scanner.scan(e.text).signals} for c in CATEGORIES] for e in examples],
        dtype=np.float64,
    )
    rows = figures(data, flagged, lexicon)
    weights, biases = fit(*data.training_rows(range(len(examples))), l2)
    document = {
        "format": FORMAT,
        "model_sha256": files.model_sha256,
        "dimensions": int(weights.shape[0]),
        "seed": seed,
        "l2": l2,
        "messages": len(examples),
        "categories": {
            category: {
                "threshold": chosen[category],
                "bias": round(float(biases[index]), 6),
                "weights": [round(float(w), 6) for w in weights[:, index]],
            }
            for index, category in enumerate(CATEGORIES)
        },
    }
    out.write_text(json.dumps(document, separators=(",", ":")) + "\n", encoding="utf-8")
    sources: dict[str, int] = {}
    for example in examples:
        sources[example.source] = sources.get(example.source, 0) + 1
    report = [
        f"{len(examples)} messages: " + ", ".join(f"{name} {count}" for name, count in sorted(sources.items())),
        "",
        render(rows, f"{FOLDS}-fold cross-validation (seed {seed}, L2 {l2})"),
        "",
        "thresholds: " + ", ".join(f"{c} {t}" for c, t in chosen.items()),
        f"wrote {out} (SHA-256 {sha256_of(out)}): pin it as CLASSIFIER_SHA256 in helpline/semantic/classifier.py",
    ]
    return "\n".join(report)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/train-risk", description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="*", type=Path, default=list(DEFAULT_DATA), help="JSON lines files or folders")
    parser.add_argument("--out", type=Path, default=CLASSIFIER_FILE, help="where to write the weights")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--l2", type=float, default=L2)
    args = parser.parse_args(argv)
    print(train(args.data, args.out, seed=args.seed, l2=args.l2))  # noqa: T201 - the command's own output
    return 0


if __name__ == "__main__":
    sys.exit(main())
