"""Training the meaning layer's classifier: data read as labelled, folds fixed by the seed, thresholds within budget."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from helpline.core.risk import CATEGORIES
from helpline.semantic.training import DEFAULT_DATA, fit, folds, read_examples, thresholds


def test_contrast_pairs_and_labelled_messages_are_read_once_each(tmp_path: Path) -> None:
    """A pair gives a labelled risky side and an unlabelled safe side; a text given twice is one example."""
    (tmp_path / "a.jsonl").write_text(
        json.dumps({"risk": "i took them all", "safe": "i took them all back to the shop", "category": "suicide"})
        + "\n"
        + json.dumps({"text": "i took them all", "categories": ["immediate_danger"]})
        + "\n",
        encoding="utf-8",
    )
    examples = {e.text: e.categories for e in read_examples([tmp_path])}
    assert examples == {
        "i took them all": frozenset({"suicide", "immediate_danger"}),
        "i took them all back to the shop": frozenset(),
    }


def test_the_folds_are_the_same_every_run_and_cover_every_message() -> None:
    """Cross-validation splits messages by a fixed seed, so training twice writes the same weights."""
    first, second = folds(103), folds(103)
    assert all((a == b).all() for a, b in zip(first, second, strict=True))
    assert sorted(np.concatenate(first).tolist()) == list(range(103))


def test_a_threshold_lets_through_at_most_its_budget_of_negatives() -> None:
    """With a 2% budget over 100 negatives, at most 2 of them reach the threshold."""
    rng = np.random.default_rng(0)
    scores = rng.random((150, len(CATEGORIES)))
    labels = np.zeros((150, len(CATEGORIES)))
    labels[100:, 0] = 1
    chosen = thresholds(scores, labels, dict.fromkeys(CATEGORIES, 0.02))
    negatives = scores[:100]
    assert all(int((negatives[:, i] >= chosen[c]).sum()) <= 2 for i, c in enumerate(CATEGORIES))


def test_logistic_regression_separates_what_is_separable() -> None:
    """The fitted weights score the positives of a category above its negatives."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 5))
    y = (x[:, :1] > 0).astype(np.float64)
    weights, biases = fit(x, y)
    logits = x @ weights + biases
    assert ((logits[:, 0] > 0) == (y[:, 0] > 0)).mean() > 0.95


def test_the_default_training_data_is_in_the_repository() -> None:
    """``scripts/train-risk`` with no arguments reads the tuning files and the training folder."""
    assert all(path.exists() for path in DEFAULT_DATA)
    assert len(read_examples(DEFAULT_DATA)) > 3000
