"""The benchmark's durable reference, in its own process on the suite's engine: it answers a signed webhook only
once its row is stored, sealed; it refuses a forged one; it is measured like the ceiling. No timings are asserted."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg

from helpline.bench import references, texters
from helpline.bench.durable import SCHEMA
from helpline.bench.http_load import Spread, closed_loop, post_form
from helpline.bench.server import SMS_PATH, ReferenceProcess
from helpline.testing.twilio_api import FakeTwilio
from tests.conftest import AUTH_TOKEN

PUBLIC_URL = "https://helpline.example.org"


def reference(where: str) -> ReferenceProcess:
    return ReferenceProcess.durable(where, auth_token=AUTH_TOKEN, public_base_url=PUBLIC_URL, pool_size=2)


def webhooks(twilio: FakeTwilio, port: int, count: int) -> list[bytes]:
    return texters.build(
        twilio, phase="ref", phase_index=3, count=count, texters=3, public_url=PUBLIC_URL, ports=[port]
    ).requests


async def stored_rows(where: str, database_url: str) -> list[tuple[bytes, bytes, bytes]]:
    """The reference's rows: the sender's pseudonym and the two sealed fields."""
    query = "SELECT sender, sealed_sender, sealed_body FROM {table}"
    if database_url:
        conn = await asyncpg.connect(database_url)
        try:
            return [tuple(row) for row in await conn.fetch(query.format(table=f"{SCHEMA}.messages"))]
        finally:
            await conn.close()
    with sqlite3.connect(where) as conn:
        return list(conn.execute(query.format(table="messages")))


async def test_a_signed_webhook_is_answered_once_its_sealed_row_is_stored(
    database_url: str, tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    """Five signed webhooks: five TwiML answers and five rows, with neither number nor text in them; a forged
    one is refused with 403 and stores nothing."""
    where = database_url or str(tmp_path / "reference.db")
    process = reference(where)
    await process.start()
    try:
        requests = webhooks(fake_twilio, process.port, 5)
        forged = post_form(
            "127.0.0.1",
            process.port,
            SMS_PATH,
            b"From=%2B447700900123&MessageSid=SM" + b"0" * 32 + b"&Body=hello",
            {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
        )
        spread = await Spread.open([process.port], 2)
        try:
            outcomes, _ = await closed_loop(spread, [*requests, forged])
        finally:
            spread.close()
        rows = await stored_rows(where, database_url)
    finally:
        assert await process.stop() == 0
    assert sorted(o.status for o in outcomes) == [200] * 5 + [403]
    assert len(rows) == 5
    assert len({sender for sender, _, _ in rows}) == 3  # three texters, one pseudonym each
    stored = b"".join(b"".join(row) for row in rows)
    assert b"Please can someone help" not in stored
    assert not any(texters.number(3, n)[1:].encode() in stored for n in range(3))


async def test_the_durable_reference_is_measured_like_the_ceiling(
    database_url: str, tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    """Every webhook is answered in each round, the median round is reported with its CPU, and on PostgreSQL its
    schema is gone once it has stopped."""
    where = database_url or str(tmp_path / "reference.db")
    process = reference(where)
    # Enough webhooks that a round's CPU spans several of the kernel's clock ticks (10 ms each), however fast.
    count = 300
    figures = await references.measure(process, webhooks(fake_twilio, process.port, count), concurrency=4)
    assert figures["answered_200"] == count and figures["exit_code"] == 0
    assert len(figures["rounds_per_second"]) == references.ROUNDS
    assert figures["per_second"] in figures["rounds_per_second"]
    assert figures["cpu_ms_per_request"] > 0
    if database_url:
        conn = await asyncpg.connect(database_url)
        try:
            assert await conn.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname = $1", SCHEMA) == 0
        finally:
            await conn.close()
    else:
        assert len(await stored_rows(where, database_url)) == count * references.ROUNDS
