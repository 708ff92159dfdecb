"""The ONNX sentence-embedding model itself: tokenise, run, mean-pool, normalise (see ``model`` for loading)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime
import tokenizers

Matrix = npt.NDArray[np.float32]


class OnnxMeaningModel:
    """Sentence embeddings from the ONNX graph; the prototypes' embeddings are computed once and kept."""

    def __init__(self, session: onnxruntime.InferenceSession, tokenizer: tokenizers.Tokenizer) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._prototypes: dict[tuple[str, ...], Matrix] = {}

    @classmethod
    def load(cls, model: Path, tokenizer: Path, threads: int, max_tokens: int) -> OnnxMeaningModel:
        """Open the graph for the CPU with ``threads`` threads, and the tokenizer cut at ``max_tokens``."""
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        words = tokenizers.Tokenizer.from_file(str(tokenizer))
        words.no_padding()
        words.enable_truncation(max_tokens)
        return cls(session, words)

    def similarities(self, texts: Sequence[str], prototypes: Sequence[str]) -> list[list[float]]:
        """Each text's cosine similarity with each prototype."""
        key = tuple(prototypes)
        known = self._prototypes.get(key)
        if known is None:
            known = self._prototypes[key] = self.embed(prototypes)
        scores = self.embed(texts) @ known.T
        return [[float(x) for x in row] for row in scores]

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
