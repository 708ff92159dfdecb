"""The SQL behind the console's tables: notes, consented records, blocks, canned responses, runtime settings."""

from __future__ import annotations

from datetime import datetime

from helpline.clock import to_text
from helpline.core.models import Block, CannedResponse, StoredNote, StoredRecord
from helpline.store.rows import block_from, note_from, record_from
from helpline.store.sqlite.connection import Connection


class SqliteNotes:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def insert(self, note: StoredNote) -> None:
        await self._conn.execute(
            "INSERT INTO notes (id, conversation_id, author_id, kind, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (note.id, note.conversation_id, note.author_id, note.kind, note.body, to_text(note.created_at)),
        )

    async def for_conversation(self, conversation_id: str) -> list[StoredNote]:
        rows = await self._conn.execute_fetchall(
            "SELECT n.*, u.username FROM notes n JOIN users u ON u.id = n.author_id"
            " WHERE n.conversation_id = ? ORDER BY n.created_at, n.rowid",
            (conversation_id,),
        )
        return [note_from(row) for row in rows]


class SqliteRecords:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def insert(self, record: StoredRecord, conversation_id: str) -> None:
        key = record.key
        await self._conn.execute(
            "INSERT INTO records (id, data_key, kek_version, blind_index, name, date_of_birth, contact_details,"
            " summary, consent_wording, consented_at, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                key.wrapped if key else None,
                key.kek_version if key else None,
                record.blind_index,
                record.name,
                record.date_of_birth,
                record.contact_details,
                record.summary,
                record.consent_wording,
                to_text(record.consented_at),
                record.created_by,
                to_text(record.created_at),
            ),
        )

    async def get(self, record_id: str) -> StoredRecord | None:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT r.*, u.username FROM records r LEFT JOIN users u ON u.id = r.created_by WHERE r.id = ?",
                (record_id,),
            )
        )
        return record_from(rows[0]) if rows else None

    async def find(self, blind_index: bytes) -> str | None:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT id FROM records WHERE blind_index = ? AND data_key IS NOT NULL"
                " ORDER BY created_at DESC LIMIT 1",
                (blind_index,),
            )
        )
        return str(rows[0][0]) if rows else None


class SqliteBlocks:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def insert(self, block: Block, pseudonym: bytes) -> None:
        await self._conn.execute(
            "INSERT INTO blocks (id, pseudonym, conversation_id, reason, created_by, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                block.id,
                pseudonym,
                block.conversation_id,
                block.reason,
                block.created_by,
                to_text(block.created_at),
                to_text(block.expires_at),
            ),
        )

    async def active_for(self, pseudonym: bytes, now: datetime) -> bool:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT 1 FROM blocks WHERE pseudonym = ? AND lifted_at IS NULL AND expires_at > ? LIMIT 1",
                (pseudonym, to_text(now)),
            )
        )
        return bool(rows)

    async def for_conversation(self, conversation_id: str, now: datetime) -> bool:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT 1 FROM blocks WHERE conversation_id = ? AND lifted_at IS NULL AND expires_at > ? LIMIT 1",
                (conversation_id, to_text(now)),
            )
        )
        return bool(rows)

    async def active(self, now: datetime) -> list[Block]:
        rows = await self._conn.execute_fetchall(
            "SELECT b.*, u.username FROM blocks b LEFT JOIN users u ON u.id = b.created_by"
            " WHERE b.lifted_at IS NULL AND b.expires_at > ? ORDER BY b.created_at DESC",
            (to_text(now),),
        )
        return [block_from(row) for row in rows]

    async def lift(self, block_id: str, user_id: str, now: datetime) -> bool:
        cursor = await self._conn.execute(
            "UPDATE blocks SET lifted_by = ?, lifted_at = ? WHERE id = ? AND lifted_at IS NULL AND expires_at > ?",
            (user_id, to_text(now), block_id, to_text(now)),
        )
        return cursor.rowcount == 1


class SqliteCanned:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def all(self) -> list[CannedResponse]:
        rows = await self._conn.execute_fetchall("SELECT id, code, title, body FROM canned_responses ORDER BY code")
        return [CannedResponse(row["id"], row["code"], row["title"], row["body"]) for row in rows]

    async def upsert(self, canned: CannedResponse, now: datetime) -> bool:
        taken = list(
            await self._conn.execute_fetchall(
                "SELECT 1 FROM canned_responses WHERE code = ? AND id != ?", (canned.code, canned.id)
            )
        )
        if taken:
            return False
        await self._conn.execute(
            "INSERT INTO canned_responses (id, code, title, body, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET code = excluded.code, title = excluded.title, body = excluded.body,"
            " updated_at = excluded.updated_at",
            (canned.id, canned.code, canned.title, canned.body, to_text(now)),
        )
        return True

    async def delete(self, canned_id: str) -> bool:
        cursor = await self._conn.execute("DELETE FROM canned_responses WHERE id = ?", (canned_id,))
        return cursor.rowcount == 1


class SqliteRuntimeSettings:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def get(self, key: str) -> str | None:
        rows = list(await self._conn.execute_fetchall("SELECT value FROM runtime_settings WHERE key = ?", (key,)))
        return str(rows[0][0]) if rows else None

    async def put(self, key: str, value: str, now: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO runtime_settings (key, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (key, value, to_text(now)),
        )
