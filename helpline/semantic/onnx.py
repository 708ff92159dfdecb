"""The ONNX sentence-embedding model: tokenise, run, mean-pool, normalise, classify (``model`` loads it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime
import tokenizers

from helpline.core.risk_meaning import TextScores
from helpline.semantic.classifier import Classifier

Matrix = npt.NDArray[np.float32]


class OnnxEmbedder:
    """Unit-length sentence embeddings from the ONNX graph."""

    def __init__(self, session: onnxruntime.InferenceSession, tokenizer: tokenizers.Tokenizer) -> None:
        self._session = session
        self._tokenizer = tokenizer

    @classmethod
    def load(cls, model: Path, tokenizer: Path, threads: int, max_tokens: int) -> OnnxEmbedder:
        """Open the graph for the CPU with ``threads`` threads, and the tokenizer cut at ``max_tokens``."""
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        words = tokenizers.Tokenizer.from_file(str(tokenizer))
        words.no_padding()
        words.enable_truncation(max_tokens)
        return cls(session, words)

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Unit-length embeddings, one row per text, batched with padding to the longest."""
        encodings = self._tokenizer.encode_batch(list(texts))
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = np.asarray(self._session.run(["last_hidden_state"], feed)[0], dtype=np.float32)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)


def probabilities(
    embedded: npt.NDArray[np.floating[Any]],
    weights: npt.NDArray[np.floating[Any]],
    biases: npt.NDArray[np.floating[Any]],
) -> npt.NDArray[np.float64]:
    """Logistic regression: each row's probability per column of ``weights`` (one column per category)."""
    logits = np.clip(embedded @ weights + biases, -30.0, 30.0)
    return np.asarray(1.0 / (1.0 + np.exp(-logits)), dtype=np.float64)


class OnnxMeaningModel:
    """Sentence embeddings and the classifier over them (the ``MeaningModel`` port); prototypes are embedded once."""

    def __init__(self, embedder: OnnxEmbedder, classifier: Classifier) -> None:
        self._embedder = embedder
        self._prototypes: dict[tuple[str, ...], Matrix] = {}
        self._categories = tuple(c.category for c in classifier.categories)
        self._thresholds = classifier.thresholds
        # One column per category: the probabilities of many texts are one matrix product.
        self._weights = np.array([c.weights for c in classifier.categories], dtype=np.float32).T
        self._biases = np.array([c.bias for c in classifier.categories], dtype=np.float32)

    @classmethod
    def load(
        cls, model: Path, tokenizer: Path, classifier: Classifier, threads: int, max_tokens: int
    ) -> OnnxMeaningModel:
        """The embedder (see ``OnnxEmbedder.load``) with the classifier's weights."""
        return cls(OnnxEmbedder.load(model, tokenizer, threads, max_tokens), classifier)

    @property
    def thresholds(self) -> Mapping[str, float]:
        return self._thresholds

    def embed(self, texts: Sequence[str]) -> Matrix:
        return self._embedder.embed(texts)

    def score(self, texts: Sequence[str], prototypes: Sequence[str]) -> list[TextScores]:
        """Each text's cosine similarity with each prototype, and its probability for each category."""
        key = tuple(prototypes)
        known = self._prototypes.get(key)
        if known is None:
            known = self._prototypes[key] = self._embedder.embed(prototypes)
        embedded = self._embedder.embed(texts)
        chances = probabilities(embedded, self._weights, self._biases)
        return [
            TextScores(
                tuple(float(x) for x in row),
                {category: float(p) for category, p in zip(self._categories, chance, strict=True)},
            )
            for row, chance in zip(embedded @ known.T, chances, strict=True)
        ]
