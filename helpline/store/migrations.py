"""Numbered SQL migrations, applied in order, each exactly once.

Each engine has its own folder (``store/migrations/`` for SQLite, ``store/postgres/migrations/`` for
PostgreSQL), with the same numbers and names: version N is the same schema on both, written for each engine
(``bytea`` and ``timestamptz`` where SQLite has BLOB and text, identity columns, partial indexes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def all_migrations(package: str = "helpline.store") -> list[Migration]:
    """Every migration shipped in ``package``'s ``migrations`` folder, in version order."""
    found = []
    for entry in resources.files(package).joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found


def split_statements(sql: str) -> list[str]:
    """Split a migration into statements (migrations contain no semicolons inside literals or comments)."""
    lines = [line.split("--", 1)[0] for line in sql.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
