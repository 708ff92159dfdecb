"""The model in a process of its own, at the lowest scheduling priority: the ``MeaningModel`` port over a pipe.

The server's event loop answers webhooks and updates consoles; the model needs tens of milliseconds of CPU a
message. In a thread of the server's process, the model's Python parts hold the interpreter's lock, and a
thread the system has put aside while holding it stalls the loop too. In a child process (started with
``spawn``, never ``fork``, as the server has threads) the two share nothing but a pipe, and the child runs at
nice 19: on a busy machine the CPU goes to the server first and the meaning layer lags, as it may.

The child loads the model files the parent has already checked against their pinned hashes, and the
classifier's weights the parent has read, says whether it is ready, then answers one request at a time:
texts and prototypes in, similarities and probabilities out.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Mapping, Sequence
from multiprocessing.connection import Connection
from pathlib import Path

from helpline.core.risk_meaning import TextScores
from helpline.semantic.classifier import Classifier
from helpline.semantic.model import MAX_TOKENS, ModelFiles, Unavailable

# How long the child may take to load the model before the server gives up on it and runs lexicon-only.
START_SECONDS = 60.0
# How long one reading may take before it is abandoned (a child that hangs is replaced at the next start).
READ_SECONDS = 60.0


class ModelProcess:
    """A child process running the model; ``score`` waits on its answer (call it off the event loop)."""

    def __init__(self, files: ModelFiles, threads: int = 1) -> None:
        """``files`` already checked against their pinned hashes (``model.check_files``)."""
        self._files = files
        self._classifier: Classifier = files.weights()
        self._threads = threads
        self._process: multiprocessing.process.BaseProcess | None = None
        self._connection: Connection | None = None

    def start(self) -> Unavailable | None:
        """Start the child and wait until it has loaded the model (blocking); None when ready, else why not."""
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_serve,
            args=(theirs, self._files.model, self._files.tokenizer, self._classifier, self._threads),
            name="risk-meaning",
            daemon=True,
        )
        process.start()
        theirs.close()
        try:
            ready = ours.poll(START_SECONDS) and ours.recv() == "ready"
        except (EOFError, OSError):  # the child died before it said anything
            ready = False
        if not ready:
            process.kill()
            process.join(5)
            ours.close()
            return Unavailable("the model could not be loaded")
        self._process, self._connection = process, ours
        return None

    @property
    def thresholds(self) -> Mapping[str, float]:
        return self._classifier.thresholds

    def score(self, texts: Sequence[str], prototypes: Sequence[str]) -> list[TextScores]:
        if self._connection is None:
            raise RuntimeError("the meaning layer's model is not running")
        self._connection.send((list(texts), list(prototypes)))
        if not self._connection.poll(READ_SECONDS):
            raise TimeoutError("the meaning layer's model did not answer")
        answer: list[TextScores] = self._connection.recv()
        return answer

    def close(self) -> None:
        """Ask the child to stop, and make sure it has."""
        if self._process is None or self._connection is None:
            return
        with contextlib.suppress(OSError, EOFError):
            self._connection.send(None)
        self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._connection.close()
        self._process = self._connection = None


def _serve(connection: Connection, model: Path, tokenizer: Path, classifier: Classifier, threads: int) -> None:
    """The child: lowest priority, load the model, then answer requests until told to stop."""
    with contextlib.suppress(OSError):
        os.nice(19)
    try:
        from helpline.semantic.onnx import OnnxMeaningModel  # noqa: PLC0415 - only the child loads the runtime

        loaded = OnnxMeaningModel.load(model, tokenizer, classifier, threads, MAX_TOKENS)
    except Exception:  # noqa: BLE001 - the parent hears "failed" and runs lexicon-only
        connection.send("failed")
        return
    connection.send("ready")
    while True:
        try:
            request = connection.recv()
        except EOFError:
            return
        if request is None:
            return
        texts, prototypes = request
        connection.send(loaded.score(texts, prototypes))
