"""The meaning layer's second stage: a logistic-regression classifier per category over sentence embeddings.

The weights are a small JSON file shipped in this package (``risk-classifier.json``), written by
``scripts/train-risk`` (``training``) from the labelled tuning data, and pinned by SHA-256 like the model:
a file that is missing, differs, or was trained for another model is not used, and the server runs on the
lexicon alone. Per category the file holds one weight per embedding dimension, a bias, and the threshold
chosen by cross-validation; a text's probability for a category is ``sigmoid(weights · embedding + bias)``.

This module reads the file in plain Python (the server's process checks it and needs only the thresholds);
the child process that runs the model turns it into arrays (``onnx``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from helpline.core.risk import CATEGORIES

CLASSIFIER_FILE = Path(__file__).with_name("risk-classifier.json")
# Changing the weights is a deliberate act: retrain (scripts/train-risk), re-measure (README, "Risk triage"),
# then pin the new file's hash here.
CLASSIFIER_SHA256 = "64b68b0e21f62851f0c63f0d259e71c984f9b5c65a26150758eeb53dfb5829c4"
# The format ``training`` writes and this module reads.
FORMAT = 1


@dataclass(frozen=True)
class CategoryWeights:
    """One category's logistic regression: a weight per embedding dimension, a bias, and the threshold that counts."""

    category: str
    weights: tuple[float, ...]
    bias: float
    threshold: float


@dataclass(frozen=True)
class Classifier:
    """Every category's weights, and the model (by its SHA-256) whose embeddings they were trained on."""

    model_sha256: str
    categories: tuple[CategoryWeights, ...]

    @property
    def thresholds(self) -> dict[str, float]:
        return {c.category: c.threshold for c in self.categories}


class ClassifierError(Exception):
    """The weights file cannot be used; the message is a sentence for the start-up log (no paths)."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_classifier(path: Path, sha256: str, model_sha256: str) -> Classifier:
    """The weights, if the file has its pinned hash and was trained for this model; else ``ClassifierError``."""
    try:
        digest = sha256_of(path)
    except OSError:
        raise ClassifierError("the classifier file is missing") from None
    if digest != sha256:
        raise ClassifierError("the classifier file's SHA-256 does not match the pinned one")
    return parse_classifier(path.read_text(encoding="utf-8"), model_sha256)


def parse_classifier(text: str, model_sha256: str) -> Classifier:
    """The weights from the file's text, checked for shape; ``ClassifierError`` says what is wrong."""
    try:
        data = json.loads(text)
        if data["format"] != FORMAT:
            raise ClassifierError("the classifier file has an unknown format")
        if data["model_sha256"] != model_sha256:
            raise ClassifierError("the classifier was trained for another model")
        dimensions = int(data["dimensions"])
        categories = []
        for name, raw in data["categories"].items():
            weights = tuple(float(w) for w in raw["weights"])
            if name not in CATEGORIES or len(weights) != dimensions:
                raise ClassifierError("the classifier file is malformed")
            categories.append(CategoryWeights(name, weights, float(raw["bias"]), float(raw["threshold"])))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ClassifierError("the classifier file is malformed") from None
    return Classifier(str(data["model_sha256"]), tuple(categories))
