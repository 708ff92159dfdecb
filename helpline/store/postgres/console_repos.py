"""The PostgreSQL SQL behind the console's tables: notes, records, blocks, canned responses, runtime settings."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from helpline.core.models import Block, CannedResponse, StoredNote, StoredRecord
from helpline.store.postgres.connection import PgConnection as Connection
from helpline.store.rows import block_from, note_from, record_from


class PgNotes:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def insert(self, note: StoredNote) -> None:
        await self._conn.execute(
            "INSERT INTO notes (id, conversation_id, author_id, kind, body, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            (note.id, note.conversation_id, note.author_id, note.kind, note.body, note.created_at),
        )

    async def for_conversation(self, conversation_id: str) -> list[StoredNote]:
        rows = await self._conn.execute_fetchall(
            "SELECT n.*, u.username FROM notes n JOIN users u ON u.id = n.author_id"
            " WHERE n.conversation_id = $1 ORDER BY n.created_at, n.pos",
            (conversation_id,),
        )
        return [note_from(row) for row in rows]


class PgRecords:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def insert(self, record: StoredRecord, conversation_id: str) -> None:
        key = record.key
        await self._conn.execute(
            "INSERT INTO records (id, data_key, kek_version, blind_index, name, date_of_birth, contact_details,"
            " summary, consent_wording, consented_at, created_by, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
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
                record.consented_at,
                record.created_by,
                record.created_at,
            ),
        )

    async def get(self, record_id: str) -> StoredRecord | None:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT r.*, u.username FROM records r LEFT JOIN users u ON u.id = r.created_by WHERE r.id = $1",
                (record_id,),
            )
        )
        return record_from(rows[0]) if rows else None

    async def find(self, blind_index: bytes) -> str | None:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT id FROM records WHERE blind_index = $1 AND data_key IS NOT NULL"
                " ORDER BY created_at DESC LIMIT 1",
                (blind_index,),
            )
        )
        return str(rows[0][0]) if rows else None


class PgBlocks:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def insert(self, block: Block, pseudonym: bytes) -> None:
        await self._conn.execute(
            "INSERT INTO blocks (id, pseudonym, conversation_id, reason, created_by, created_at, expires_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            (
                block.id,
                pseudonym,
                block.conversation_id,
                block.reason,
                block.created_by,
                block.created_at,
                block.expires_at,
            ),
        )

    async def active_for(self, pseudonym: bytes, now: datetime) -> bool:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT 1 FROM blocks WHERE pseudonym = $1 AND lifted_at IS NULL AND expires_at > $2 LIMIT 1",
                (pseudonym, now),
            )
        )
        return bool(rows)

    async def for_conversation(self, conversation_id: str, now: datetime) -> bool:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT 1 FROM blocks WHERE conversation_id = $1 AND lifted_at IS NULL AND expires_at > $2 LIMIT 1",
                (conversation_id, now),
            )
        )
        return bool(rows)

    async def active(self, now: datetime) -> list[Block]:
        rows = await self._conn.execute_fetchall(
            "SELECT b.*, u.username FROM blocks b LEFT JOIN users u ON u.id = b.created_by"
            " WHERE b.lifted_at IS NULL AND b.expires_at > $1 ORDER BY b.created_at DESC",
            (now,),
        )
        return [block_from(row) for row in rows]

    async def lift(self, block_id: str, user_id: str, now: datetime) -> bool:
        cursor = await self._conn.execute(
            "UPDATE blocks SET lifted_by = $1, lifted_at = $2 WHERE id = $3 AND lifted_at IS NULL AND expires_at > $4",
            (user_id, now, block_id, now),
        )
        return cursor.rowcount == 1


class PgCanned:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def all(self) -> list[CannedResponse]:
        rows = await self._conn.execute_fetchall("SELECT id, code, title, body FROM canned_responses ORDER BY code")
        return [CannedResponse(row["id"], row["code"], row["title"], row["body"]) for row in rows]

    async def upsert(self, canned: CannedResponse, now: datetime) -> bool:
        taken = list(
            await self._conn.execute_fetchall(
                "SELECT 1 FROM canned_responses WHERE code = $1 AND id != $2", (canned.code, canned.id)
            )
        )
        if taken:
            return False
        # The check above cannot see a response with the same code that another unit is adding right now: its
        # insert waits for that unit, and fails on the code's unique index if it commits. Only that is undone.
        try:
            async with self._conn.savepoint():
                await self._conn.execute(
                    "INSERT INTO canned_responses (id, code, title, body, updated_at) VALUES ($1, $2, $3, $4, $5)"
                    " ON CONFLICT (id) DO UPDATE SET code = excluded.code, title = excluded.title,"
                    " body = excluded.body, updated_at = excluded.updated_at",
                    (canned.id, canned.code, canned.title, canned.body, now),
                )
        except asyncpg.UniqueViolationError:
            return False
        return True

    async def delete(self, canned_id: str) -> bool:
        cursor = await self._conn.execute("DELETE FROM canned_responses WHERE id = $1", (canned_id,))
        return cursor.rowcount == 1


class PgRuntimeSettings:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def get(self, key: str) -> str | None:
        rows = list(await self._conn.execute_fetchall("SELECT value FROM runtime_settings WHERE key = $1", (key,)))
        return str(rows[0][0]) if rows else None

    async def put(self, key: str, value: str, now: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO runtime_settings (key, value, updated_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (key, value, now),
        )
