"""``helpline bench --meaning FILE``: what the risk scanner's meaning layer costs on this machine.

It loads the packaged model as the server does (hash checks included), then reads every message of a JSON
lines file (``{"text": ...}`` per line, such as tests/data/risk-messages.jsonl) the way the meaning worker
does, one at a time, and reports the load time, the memory the model added and the time per message.
"""

from __future__ import annotations

import json
import resource
import statistics
import time
from pathlib import Path
from typing import Any

from helpline.core.risk import RiskScanner
from helpline.core.risk_meaning import MeaningReader, Prototypes
from helpline.semantic.model import MODEL_NAME, Unavailable, installed_files, load_model
from helpline.settings import load


def measure(messages_file: Path, rounds: int = 2) -> dict[str, Any]:
    """Load time, resident memory added, and per-message p50/p99/max over ``rounds`` passes (the first warms up)."""
    texts = [json.loads(line)["text"] for line in messages_file.read_text(encoding="utf-8").splitlines() if line]
    guard = load(environ={}).safeguarding
    scanner = RiskScanner.from_toml(guard.lexicon_file.read_text(encoding="utf-8"), known_names=guard.known_names)
    prototypes = Prototypes.from_toml(guard.prototypes_file.read_text(encoding="utf-8"))
    before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    model = load_model(installed_files())
    if isinstance(model, Unavailable):
        return {"model": None, "reason": model.reason}
    reader = MeaningReader(model, prototypes, scanner)
    reader.read("hello")  # embeds the prototypes once, as the first message in the server does
    load_seconds = time.perf_counter() - started
    timings: list[float] = []
    for _ in range(rounds):
        timings = []
        for text in texts:
            begin = time.perf_counter()
            reader.read(text)
            timings.append((time.perf_counter() - begin) * 1000)
    timings.sort()
    return {
        "model": MODEL_NAME,
        "messages": len(texts),
        "load_seconds": round(load_seconds, 2),
        "memory_added_mib": round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_kib) / 1024, 1),
        "p50_ms": round(statistics.median(timings), 2),
        "p99_ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 2),
        "max_ms": round(timings[-1], 2),
    }


def report(figures: dict[str, Any]) -> str:
    """The figures as lines for the terminal."""
    if figures["model"] is None:
        return f"meaning layer off: {figures['reason']}"
    return "\n".join(
        [
            f"meaning layer: {figures['model']}",
            f"  load (hash checks, session, prototypes): {figures['load_seconds']} s",
            f"  memory added: {figures['memory_added_mib']} MiB",
            f"  per message ({figures['messages']} messages, one at a time, one thread): "
            f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, max {figures['max_ms']} ms",
        ]
    )
