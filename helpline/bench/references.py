"""The two references the server is measured against, each in a process of its own, driven the same way.

The *ceiling* (``ceiling.py``) is what aiohttp alone answers; the *durable reference* (``durable.py``) is the
least a durable, private webhook must do on the same engine. Both get the throughput phase's webhooks, closed
loop, at the same concurrency, ``ROUNDS`` times over: one round takes a second or two, so a single one swings
with whatever else the machine did, and the median round is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from helpline.bench.http_load import Outcome, Spread, closed_loop
from helpline.bench.postgres_cpu import PostgresCpu
from helpline.bench.server import ReferenceProcess

ROUNDS = 3


def answered(outcomes: list[Outcome]) -> int:
    return sum(1 for o in outcomes if o.status == 200)


async def measure(
    process: ReferenceProcess, requests: Sequence[bytes], concurrency: int, postgres: PostgresCpu | None = None
) -> dict[str, Any]:
    """Start ``process``, send it every request ``ROUNDS`` times, stop it; the median round's figures."""
    await process.start()
    rounds = []
    try:
        spread = await Spread.open([process.port], concurrency)
        try:
            for _ in range(ROUNDS):
                cpu = process.cpu_seconds()
                before = await postgres.sample() if postgres is not None else None
                outcomes, seconds = await closed_loop(spread, requests)
                database = postgres.used(before, await postgres.sample()) if postgres and before else None
                ok = answered(outcomes)
                rounds.append((ok / seconds, process.cpu_seconds() - cpu, seconds, ok, database))
        finally:
            spread.close()
    finally:
        exit_code = await process.stop()
    per_second, cpu, seconds, ok, database = sorted(rounds, key=lambda r: r[0])[len(rounds) // 2]
    count = max(len(requests), 1)
    figures: dict[str, Any] = {
        "requests": len(requests),
        "concurrency": concurrency,
        "answered_200": ok,
        "seconds": round(seconds, 3),
        "per_second": round(per_second, 1),
        "rounds_per_second": [round(r[0], 1) for r in rounds],
        "cpu_ms_per_request": round(cpu * 1000 / count, 3),
        "cpu_share": round(cpu / seconds, 2),
        "exit_code": exit_code,
    }
    if database is not None:
        figures["postgres_cpu_ms_per_request"] = round(database.ours * 1000 / count, 3)
        figures["postgres_whole_server_cpu_ms_per_request"] = round(database.whole * 1000 / count, 3)
        figures["postgres_other_backends"] = database.other_backends
    return figures
