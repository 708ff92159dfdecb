"""On PostgreSQL, the server's own log holds no identifier or text either, even when a statement fails.

A failed statement is where a database's log can pick up values: a unique violation's DETAIL names the key, a
check violation's the whole row, and ``log_min_error_statement`` adds the statement. The server's sessions
set ``log_error_verbosity = terse`` and ``log_min_error_statement = panic``, so none of that is written.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from helpline.store.postgres.database import PostgresStore
from tests.conftest import FakeClock, Harness
from tests.test_canary import number_forms, text_forms

pytestmark = pytest.mark.postgres_only

NUMBER = "+447700900987"
TEXT = "PGLOGCANARY my stepdad hits me"
REPLY = "PGLOGREPLY you can talk to us"


async def server_log(url: str) -> Path:
    """The PostgreSQL server's log file: the logging collector's current file, or Debian's per-cluster file."""
    conn = await asyncpg.connect(url)
    try:
        current = await conn.fetchval("SELECT pg_current_logfile()")
        directory = Path(await conn.fetchval("SHOW data_directory"))
    finally:
        await conn.close()
    if current:
        return directory / str(current)
    # Debian's pg_ctlcluster sends the server's stderr to /var/log/postgresql/postgresql-<version>-<cluster>.log.
    version, cluster = directory.parts[-2], directory.parts[-1]
    return Path(f"/var/log/postgresql/postgresql-{version}-{cluster}.log")


async def test_server_log_holds_no_identifier_even_for_failed_statements(
    harness: Harness, clock: FakeClock, database_url: str
) -> None:
    """A whole conversation and two statements that fail on the canary's values leave none of them in the log."""
    log_file = await server_log(database_url)
    start = len(log_file.read_bytes())
    assert (await harness.text(NUMBER, TEXT)).status == 200
    amira = await harness.console("amira")
    conversation = (await (await amira.post("/api/queue/take")).json())["id"]
    assert (await amira.post(f"/api/conversations/{conversation}/messages", {"body": REPLY})).status == 201
    await harness.send_outbox()

    conn = await PostgresStore(database_url, clock).connect()  # set up as every pooled connection is
    try:
        insert = (
            "INSERT INTO users (id, username, roles, password_hash, created_at) VALUES ($1, $2, 'volunteer', '', now())"
        )
        await conn.execute(insert, "u1", NUMBER)
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(insert, "u2", NUMBER)  # DETAIL would name the username
        with pytest.raises(asyncpg.CheckViolationError):  # DETAIL would hold the whole row
            literal = (
                "INSERT INTO users (id, username, roles, password_hash, created_at, availability)"
                " VALUES ('u3', '{}', 'volunteer', '', now(), 'nobody')"
            )
            await conn.execute(literal.format(TEXT))  # the canary in the statement's text itself, on purpose
    finally:
        await conn.close()

    written = log_file.read_bytes()[start:].decode("utf-8", "replace")
    assert "users_username_key" in written, "the failed statement was not logged at all, so this proves nothing"
    for needle in [*number_forms(NUMBER), *text_forms(TEXT), *text_forms(REPLY)]:
        assert needle not in written, f"{needle!r} found in the PostgreSQL server's log"
    assert b"PGLOGCANARY" not in harness.db.dump()


async def test_pooled_connections_stay_quiet_after_each_unit(clock: FakeClock, database_url: str) -> None:
    """A connection back from a unit of work keeps its quiet log settings (a ``RESET ALL`` would undo them)."""
    store = await PostgresStore(database_url, clock, pool_min=1, pool_max=1).open()
    try:
        for _ in range(3):
            await store.write(lambda tx: tx.inbox.remember(b"idempotency-key", clock.now()))
            settings = await store.fetch(
                "SELECT current_setting('log_error_verbosity'), current_setting('log_min_error_statement')"
            )
            assert tuple(settings[0]) == ("terse", "panic")
    finally:
        await store.close()
