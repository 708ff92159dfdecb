"""Copying a stopped SQLite helpline into an empty, migrated PostgreSQL database (``helpline db copy``).

Every table is copied as it is: ciphertexts, wrapped keys and pseudonyms byte for byte (nothing is decrypted or
re-encrypted; the master key file moves with the data). Times become ``timestamptz``. Rows keep their order
(the intake queue's and the audit chain's sequence numbers, the order of notes written in one instant), and
the chain's head row is set to the last audit entry, so ``audit verify`` proves the copied chain unchanged.
The target must be at this helpline's schema version and hold nothing; row counts are compared afterwards.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from helpline.clock import from_text
from helpline.errors import StoreError
from helpline.store.postgres import schema

# Parents before children (foreign keys), then the rest.
TABLES = (
    "users",
    "sessions",
    "records",
    "conversations",
    "routes",
    "vault",
    "thread_keys",
    "messages",
    "inbound_seen",
    "outbox",
    "audit",
    "notes",
    "blocks",
    "canned_responses",
    "runtime_settings",
    "escalations",
    "whispers",
    "disclosures",
    "participants",
    "staff_notifications",
    "provider_deletions",
    "key_versions",
    "intake",
    "answers",
    "availability_spans",
    "signin_limits",
)
# PostgreSQL columns that SQLite keeps as its rowid (insertion order).
_FROM_ROWID = {("notes", "pos"), ("whispers", "pos")}
# Rows PostgreSQL's migrations put there themselves; the target is empty apart from these.
_SEEDED = ("schema_migrations", "audit_head")
# What only instances sharing PostgreSQL keep, while they run (events, limits, presence, key versions in use,
# audit entries not yet linked into the chain): nothing in SQLite to copy.
_SHARED_ONLY = ("events", "limit_buckets", "ended_chats", "console_presence", "instance_keys", "audit_pending")


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)


def _converter(pg_type: str) -> Callable[[Any], Any]:
    if pg_type == "timestamp with time zone":
        return lambda v: from_text(v) if v is not None else None
    if pg_type == "bytea":
        return lambda v: bytes(v) if v is not None else None
    if pg_type == "boolean":
        return lambda v: bool(v) if v is not None else None
    return lambda v: v


async def copy_sqlite_to_postgres(source: Path, conn: asyncpg.Connection) -> CopyReport:
    """Copy every table of the SQLite file at ``source`` into the (empty, migrated) database on ``conn``."""
    await schema.check(conn)
    with _read_only(source) as lite:
        lite.execute("BEGIN")  # one snapshot for the whole copy
        version = lite.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]
        if version != schema.latest_version():
            raise StoreError(
                f"the SQLite database is at schema version {version}, this helpline at {schema.latest_version()}:"
                " open it once with this helpline (it migrates), stop it, then copy"
            )
        report = CopyReport()
        async with conn.transaction():
            await _refuse_non_empty(conn)
            for table in TABLES:
                report.rows[table] = await _copy_table(lite, conn, table)
            await _after_copy(conn)
            for table, count in report.rows.items():
                copied = await conn.fetchval(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - a name from TABLES
                if copied != count:
                    raise StoreError(f"{table}: {count} rows in SQLite but {copied} copied")
    return report


def _read_only(source: Path) -> sqlite3.Connection:
    if not source.exists():
        raise StoreError(f"there is no SQLite database at {source}")
    return sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)


async def _refuse_non_empty(conn: asyncpg.Connection) -> None:
    names = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    unknown = sorted({name for (name,) in names} - set(TABLES) - set(_SEEDED) - set(_SHARED_ONLY))
    if unknown:  # a table a migration added that this copy would leave behind
        raise StoreError(f"db copy does not know the table {unknown[0]}: it would not be copied")
    for (name,) in names:
        if name in _SEEDED:
            continue
        if await conn.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{name}")'):  # noqa: S608 - a catalogue name
            raise StoreError(f"the PostgreSQL database is not empty ({name} has rows): copy only into a new one")
    if await conn.fetchval("SELECT seq FROM audit_head") != 0:
        raise StoreError("the PostgreSQL database is not empty (its audit log has entries): copy only into a new one")


async def _copy_table(lite: sqlite3.Connection, conn: asyncpg.Connection, table: str) -> int:
    types = {
        r["column_name"]: r["data_type"]
        for r in await conn.fetch(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = $1",
            table,
        )
    }
    lite_columns = [row[1] for row in lite.execute(f"PRAGMA table_info({table})")]
    columns = [c for c in lite_columns if c in types]
    extra = [c for c in types if (table, c) in _FROM_ROWID]
    converters = [_converter(types[c]) for c in columns]
    selected = ", ".join([*columns, *(["rowid"] if extra else [])])
    cursor = lite.execute(f"SELECT {selected} FROM {table} ORDER BY rowid")  # noqa: S608 - names from the schema
    count = 0
    while batch := cursor.fetchmany(1000):
        records = [
            tuple(convert(value) for convert, value in zip(converters, row[: len(columns)], strict=True))
            + tuple(row[len(columns) :])
            for row in batch
        ]
        await conn.copy_records_to_table(table, records=records, columns=[*columns, *extra])
        count += len(records)
    return count


async def _after_copy(conn: asyncpg.Connection) -> None:
    """Identity columns continue after the copied rows; the audit chain's head is its last copied entry."""
    for table, column in (("intake", "seq"), ("notes", "pos"), ("whispers", "pos")):
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"  # noqa: S608 - fixed names
            f" COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
        )
    last = await conn.fetchrow("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
    if last is not None:
        await conn.execute("UPDATE audit_head SET seq = $1, hash = $2", last["seq"], last["hash"])
