"""The ``helpline`` subcommands that move and keep a helpline's data: ``db copy`` and ``backup``.

``db copy --to postgresql://…`` moves a stopped SQLite helpline to PostgreSQL: it migrates the (new, empty)
target, copies every row as it is, compares row counts, and checks that every wrapped data key and sealed
secret opens there with the instance's master key. ``backup --to FILE`` takes a consistent copy of a SQLite
database, even while the server runs; on PostgreSQL, pg_dump or the provider's point-in-time recovery do that.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

from helpline import settings as settings_module
from helpline.app import open_store
from helpline.cli_instance import on_store, settings_of
from helpline.clock import SystemClock
from helpline.errors import ConfigError, StoreError
from helpline.store.copy import copy_sqlite_to_postgres
from helpline.store.postgres.database import PostgresStore
from helpline.store.sqlite.backup import backup

ConfigOption = Callable[[argparse.ArgumentParser], None]


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser], config_option: ConfigOption) -> None:
    """Register ``db copy`` and ``backup`` on the ``helpline`` command."""
    db = commands.add_parser("db", help="move the database to another engine")
    db_commands = db.add_subparsers(required=True, metavar="ACTION")
    copy = db_commands.add_parser("copy", help="copy a stopped SQLite helpline into a new PostgreSQL database")
    copy.add_argument("--to", required=True, metavar="URL", help="postgresql://user@host:5432/dbname (empty)")
    config_option(copy)
    copy.set_defaults(run=_db_copy)
    keep = commands.add_parser("backup", help="copy the SQLite database to a new file, consistently, while it runs")
    keep.add_argument("--to", required=True, type=Path, metavar="FILE")
    config_option(keep)
    keep.set_defaults(run=_backup)


def _db_copy(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    if settings.storage.database_url:
        raise ConfigError("storage.database_url: db copy copies from the SQLite file, so leave this empty for it")
    target = settings.replace("storage", database_url=args.to)
    settings_module.check_database_url(target.storage)
    store = open_store(target, SystemClock())
    assert isinstance(store, PostgresStore)  # noqa: S101 - database_url is set

    async def run() -> int:
        await store.migrate()
        conn = await store.connect()
        try:
            report = await copy_sqlite_to_postgres(settings.storage.database, conn)
        finally:
            await conn.close()
        for table, count in report.rows.items():
            if count:
                print(f"{table}: {count} rows")
        checked = await on_store(target, lambda helpline: helpline.rotation.verify())
        if checked.failed:
            for failure in checked.failed:
                print(f"does not open: {failure}", file=sys.stderr)
            print(f"{len(checked.failed)} wrapped keys or secrets do not open there.", file=sys.stderr)
            return 1
        opened = sum(checked.opened.values())
        print(f"Copied; row counts match and all {opened} wrapped keys and secrets open.")
        print("Now set storage.database_url to that URL in the instance config, and start the server.")
        return 0

    return asyncio.run(run())


def _backup(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    if not open_store(settings, SystemClock()).engine.online_backup:
        raise StoreError(
            "this helpline runs on PostgreSQL: back it up with pg_dump or your provider's point-in-time recovery"
        )
    pages = backup(settings.storage.database, args.to)
    print(f"Backed up {pages} pages to {args.to}. The master key is not in it: keep its copy somewhere else.")
    return 0
