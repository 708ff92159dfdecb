"""The reports migration on a database that already holds conversations: replies and returning contacts carried over."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from helpline.store.migrations import all_migrations
from helpline.store.sqlite.database import SqliteStore
from tests.conftest import FakeClock

REPORTS = next(m.version for m in all_migrations() if m.name.endswith("_reports.sql"))
JAN_1 = "2026-01-01T00:00:00.000000Z"


def _before_reports(path: Path) -> None:
    """A database at the schema before reports, with two conversations, replies and a record."""
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        for migration in all_migrations():
            if migration.version < REPORTS:
                conn.executescript(migration.sql)
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)", (migration.version, migration.name, JAN_1)
                )
        conn.execute(
            "INSERT INTO users (id, username, role, password_hash, created_at)"
            " VALUES ('u1', 'vol1', 'volunteer', 'x', ?)",
            (JAN_1,),
        )
        for ident, created in (("c-first", "2026-01-02T09:00:00.000000Z"), ("c-again", "2026-01-05T09:00:00.000000Z")):
            conn.execute(
                "INSERT INTO conversations (id, channel, status, created_at, waiting_since, record_id)"
                " VALUES (?, 'sms', 'closed', ?, ?, NULL)",
                (ident, created, created),
            )
        made = "2026-01-02T09:30:00.000000Z"
        conn.execute(
            "INSERT INTO records (id, name, date_of_birth, contact_details, summary, consent_wording, consented_at,"
            " created_by, created_at) VALUES ('r1', x'00', x'00', x'00', x'00', 'wording', ?, 'u1', ?)",
            (made, made),
        )
        conn.execute("UPDATE conversations SET record_id = 'r1'")
        # The greeting (no author), then two replies by the same volunteer.
        messages = [(None, "2026-01-02T09:00:00.000000Z"), ("u1", "2026-01-02T09:04:00.000000Z")]
        messages.append(("u1", "2026-01-02T09:09:00.000000Z"))
        for seq, (author, at) in enumerate(messages, 1):
            conn.execute(
                "INSERT INTO messages (id, conversation_id, seq, direction, author_id, body, created_at)"
                " VALUES (?, 'c-first', ?, 'out', ?, x'00', ?)",
                (f"m{seq}", seq, author, at),
            )


async def test_migration_carries_over_replies_and_returning_contacts(tmp_path: Path, clock: FakeClock) -> None:
    """A first reply by staff (not the greeting) becomes an answer; a conversation after its record is returning."""
    path = tmp_path / "helpline.db"
    _before_reports(path)
    store = SqliteStore(path, clock)
    await store.open()
    await store.close()
    with sqlite3.connect(path) as conn:
        assert list(conn.execute("SELECT conversation_id, user_id, first_reply_at FROM answers")) == [
            ("c-first", "u1", "2026-01-02T09:04:00.000000Z")
        ]
        assert list(conn.execute("SELECT id, returning_contact, out_of_hours FROM conversations ORDER BY id")) == [
            ("c-again", 1, 0),
            ("c-first", 0, 0),
        ]
