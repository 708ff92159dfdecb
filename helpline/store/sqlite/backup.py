"""A consistent copy of a live SQLite database, through SQLite's online backup API (``helpline backup``)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from helpline.errors import StoreError


def backup(database: Path, target: Path) -> int:
    """Copy ``database`` to the new file ``target`` (mode 0600) while the server may be running; returns pages.

    The copy is one consistent moment of the database: writes the server commits meanwhile are either wholly in
    it or not at all. It holds what the database holds (ciphertexts, wrapped keys), never the master key.
    """
    if target.exists():
        raise StoreError(f"{target} exists already: back up to a new file")
    if not database.exists():
        raise StoreError(f"there is no database at {database}")
    partial = target.with_name(target.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    try:
        with sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True) as source:
            destination = sqlite3.connect(partial)
            try:
                source.backup(destination)
                pages = int(destination.execute("PRAGMA page_count").fetchone()[0])
                destination.execute("PRAGMA journal_mode = DELETE")
            finally:
                destination.close()
        partial.rename(target)
    except sqlite3.Error:
        partial.unlink(missing_ok=True)
        raise StoreError("the backup could not be completed") from None
    return pages
