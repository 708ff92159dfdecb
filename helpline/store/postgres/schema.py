"""Migrating a PostgreSQL database, and checking its schema before serving.

Migrations run under a session advisory lock, so two processes starting at once apply each migration once:
the second waits, then finds nothing left to do. Each migration and its ``schema_migrations`` row commit in one
transaction. ``helpline init`` migrates; ``helpline serve`` and the other commands only check, and refuse a
database that is not migrated, or that a newer helpline has migrated further than this one knows.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from helpline.errors import StoreError
from helpline.store.migrations import Migration, all_migrations

# pg_advisory_lock's key for "migrating the helpline schema": any fixed number, the same in every process.
MIGRATION_LOCK = 0x48454C50  # "HELP"


def migrations() -> list[Migration]:
    return all_migrations("helpline.store.postgres")


def latest_version() -> int:
    return migrations()[-1].version


async def schema_version(conn: asyncpg.Connection) -> int | None:
    """The applied schema version; None when the database has no helpline schema at all."""
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return None
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))


async def migrate(conn: asyncpg.Connection, now: datetime) -> int:
    """Apply every migration not yet applied, under the advisory lock; returns the schema version."""
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL)"
        )
        current = await schema_version(conn) or 0
        if current > latest_version():
            raise StoreError(newer_message(current))
        for migration in migrations():
            if migration.version <= current:
                continue
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                        migration.version,
                        migration.name,
                        now,
                    )
            except asyncpg.PostgresError:
                raise StoreError(f"migration {migration.name} failed") from None
            current = migration.version
        return current
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)


async def check(conn: asyncpg.Connection) -> None:
    """Refuse a database whose schema is missing, behind, or ahead of this helpline's."""
    version = await schema_version(conn)
    latest = latest_version()
    if version is None or version == 0:
        raise StoreError("the PostgreSQL database has no helpline schema yet: run `helpline init` to migrate it")
    if version < latest:
        raise StoreError(
            f"the PostgreSQL database's schema is at version {version}, this helpline needs {latest}:"
            " run `helpline init` to migrate it"
        )
    if version > latest:
        raise StoreError(newer_message(version))


def newer_message(version: int) -> str:
    return (
        f"the PostgreSQL database's schema is at version {version}, newer than this helpline knows"
        f" ({latest_version()}): run the newer helpline"
    )
