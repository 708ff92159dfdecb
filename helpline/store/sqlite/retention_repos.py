"""The SQL behind the data lifecycle: retention and shredding, master key material, provider-side deletion."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from helpline.clock import to_text
from helpline.core.models import KeyRef, KeyVersion, ProviderDeletion, RouteEntry, SealedSecret
from helpline.store.names import CONTENT_TABLES, KEY_OWNERS, key_owner, key_owners_after, secret_column
from helpline.store.rows import deletion_from, key_ref_from, key_version_from, route_from, sealed_secrets_from
from helpline.store.sqlite.connection import Connection


class SqliteRetention:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def addresses_due(self, closed_before: datetime, limit: int) -> list[str]:
        # Driven from the small tables (only open conversations and those in their grace period have rows).
        rows = await self._conn.execute_fetchall(
            "SELECT c.id FROM ("
            " SELECT conversation_id AS id FROM routes"
            " UNION SELECT conversation_id FROM thread_keys"
            " UNION SELECT v.conversation_id FROM vault v WHERE NOT EXISTS (SELECT 1 FROM outbox o"
            "  WHERE o.conversation_id = v.conversation_id AND o.state IN ('pending', 'sending'))"
            ") held JOIN conversations c ON c.id = held.id"
            " WHERE c.status = 'closed' AND c.closed_at <= ? ORDER BY c.closed_at LIMIT ?",
            (to_text(closed_before), limit),
        )
        return [row[0] for row in rows]

    async def forget_address(self, conversation_id: str) -> None:
        closed = list(
            await self._conn.execute_fetchall(
                "SELECT 1 FROM conversations WHERE id = ? AND status = 'closed'", (conversation_id,)
            )
        )
        if not closed:
            return
        await self._conn.execute("DELETE FROM routes WHERE conversation_id = ?", (conversation_id,))
        await self._conn.execute("DELETE FROM thread_keys WHERE conversation_id = ?", (conversation_id,))
        await self._conn.execute(
            "DELETE FROM vault WHERE conversation_id = ? AND NOT EXISTS ("
            " SELECT 1 FROM outbox WHERE conversation_id = ? AND state IN ('pending', 'sending'))",
            (conversation_id, conversation_id),
        )

    async def transcripts_due(self, closed_before: datetime, held_before: datetime, limit: int) -> list[str]:
        rows = await self._conn.execute_fetchall(
            "SELECT c.id FROM conversations c"  # noqa: S608 - _HELD is a constant
            " WHERE c.status = 'closed' AND c.closed_at <= ? AND c.purged_at IS NULL"
            f" AND NOT {_HELD} ORDER BY c.closed_at, c.id LIMIT ?",
            (to_text(closed_before), to_text(held_before), limit),
        )
        return [row[0] for row in rows]

    async def held_for_safeguarding(self, conversation_id: str, held_before: datetime) -> bool:
        rows = list(
            await self._conn.execute_fetchall(
                f"SELECT {_HELD} FROM conversations c WHERE c.id = ?",  # noqa: S608 - _HELD is a constant
                (to_text(held_before), conversation_id),
            )
        )
        return bool(rows and rows[0][0])

    async def shred_conversation(self, conversation_id: str, now: datetime) -> bool:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT 1 FROM conversations WHERE id = ? AND status = 'closed' AND purged_at IS NULL",
                (conversation_id,),
            )
        )
        if not rows:
            return False
        one = (conversation_id,)
        for table in CONTENT_TABLES:
            await self._conn.execute(f"DELETE FROM {table} WHERE conversation_id = ?", one)  # noqa: S608 - fixed names
        # Safeguarding rows stay as content-free statistics (category, level, decision, times); their sealed
        # notes and the free-text disclosure reason go.
        await self._conn.execute(
            "UPDATE escalations SET note = x'', decision_note = NULL WHERE conversation_id = ?", one
        )
        await self._conn.execute("UPDATE disclosures SET reason = '' WHERE conversation_id = ?", one)
        await self._conn.execute(
            "DELETE FROM blocks WHERE conversation_id = ? AND (lifted_at IS NOT NULL OR expires_at <= ?)",
            (conversation_id, to_text(now)),
        )
        await self._conn.execute(
            "UPDATE conversations SET data_key = NULL, kek_version = NULL, purged_at = ? WHERE id = ?",
            (to_text(now), conversation_id),
        )
        return True

    async def records_due(self, last_contact_before: datetime, limit: int) -> list[str]:
        before = to_text(last_contact_before)
        rows = await self._conn.execute_fetchall(
            "SELECT r.id FROM records r WHERE r.ended_at IS NULL AND r.consented_at <= ?"
            " AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.record_id = r.id"
            "  AND (c.status != 'closed' OR c.closed_at > ?))"
            " ORDER BY r.consented_at, r.id LIMIT ?",
            (before, before, limit),
        )
        return [row[0] for row in rows]

    async def shred_record(self, record_id: str, reason: str, now: datetime) -> bool:
        cursor = await self._conn.execute(
            "UPDATE records SET data_key = NULL, kek_version = NULL, blind_index = NULL, name = x'',"
            " date_of_birth = x'', contact_details = x'', summary = x'', ended_at = ?, end_reason = ?"
            " WHERE id = ? AND ended_at IS NULL",
            (to_text(now), reason, record_id),
        )
        # Which conversations came from the same person is itself something the record kept.
        await self._conn.execute("UPDATE conversations SET record_id = NULL WHERE record_id = ?", (record_id,))
        return cursor.rowcount == 1

    async def forget_inbound_keys(self, seen_before: datetime) -> int:
        cursor = await self._conn.execute("DELETE FROM inbound_seen WHERE seen_at <= ?", (to_text(seen_before),))
        return cursor.rowcount

    async def forget_ended_blocks(self, now: datetime) -> int:
        cursor = await self._conn.execute(
            "DELETE FROM blocks WHERE (lifted_at IS NOT NULL OR expires_at <= ?)"
            " AND conversation_id IN (SELECT id FROM conversations WHERE purged_at IS NOT NULL)",
            (to_text(now),),
        )
        return cursor.rowcount


# A conversation is held for safeguarding while any of its escalations is not closed, or until the latest one
# closed before the given time (the first parameter).
_HELD = (
    "EXISTS (SELECT 1 FROM escalations e WHERE e.conversation_id = c.id"
    " AND (e.state != 'closed' OR e.closed_at IS NULL OR e.closed_at > ?))"
)


class SqliteKeys:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def wrapped(self, after: tuple[str, str] | None, limit: int, not_version: int | None) -> list[KeyRef]:
        found: list[KeyRef] = []
        for table, start in key_owners_after(after):
            version_clause = "" if not_version is None else " AND (kek_version IS NULL OR kek_version != ?)"
            params: tuple[object, ...] = (start,) if not_version is None else (start, not_version)
            rows = await self._conn.execute_fetchall(
                f"SELECT id, data_key, kek_version FROM {table}"  # noqa: S608 - table is one of KEY_OWNERS
                f" WHERE data_key IS NOT NULL AND id > ?{version_clause} ORDER BY id LIMIT ?",
                (*params, limit - len(found)),
            )
            found += [key_ref_from(table, row) for row in rows]
            if len(found) >= limit:
                break
        return found

    async def replace_wrapped(self, old: KeyRef, new: KeyRef) -> bool:
        table = key_owner(old, new)
        cursor = await self._conn.execute(
            f"UPDATE {table} SET data_key = ?, kek_version = ? WHERE id = ? AND data_key = ?",  # noqa: S608 - checked
            (new.wrapped, new.kek_version, old.row_id, old.wrapped),
        )
        return cursor.rowcount == 1

    async def count_wrapped(self, version: int) -> int:
        total = 0
        for table in KEY_OWNERS:
            rows = list(
                await self._conn.execute_fetchall(
                    f"SELECT COUNT(*) FROM {table} WHERE data_key IS NOT NULL AND kek_version = ?",  # noqa: S608
                    (version,),
                )
            )
            total += int(rows[0][0])
        return total

    async def secrets(self) -> list[SealedSecret]:
        rows = await self._conn.execute_fetchall(
            "SELECT id, totp_secret, totp_pending FROM users"
            " WHERE totp_secret IS NOT NULL OR totp_pending IS NOT NULL ORDER BY id"
        )
        return sealed_secrets_from(rows)

    async def replace_secret(self, old: SealedSecret, sealed: bytes) -> bool:
        column = secret_column(old)
        cursor = await self._conn.execute(
            f"UPDATE users SET {column} = ? WHERE id = ? AND {column} = ?",  # noqa: S608 - checked above
            (sealed, old.user_id, old.sealed),
        )
        return cursor.rowcount == 1

    async def routes(self, after: str | None, limit: int) -> list[RouteEntry]:
        rows = await self._conn.execute_fetchall(
            "SELECT r.conversation_id, r.pseudonym, c.channel, v.address, c.data_key, c.kek_version"
            " FROM routes r JOIN conversations c ON c.id = r.conversation_id"
            " JOIN vault v ON v.conversation_id = r.conversation_id"
            " WHERE c.data_key IS NOT NULL AND r.conversation_id > ? ORDER BY r.conversation_id LIMIT ?",
            (after or "", limit),
        )
        return [route_from(row) for row in rows]

    async def rekey_route(self, conversation_id: str, old: bytes, new: bytes) -> bool:
        cursor = await self._conn.execute(
            "UPDATE routes SET pseudonym = ? WHERE conversation_id = ? AND pseudonym = ?", (new, conversation_id, old)
        )
        if cursor.rowcount != 1:
            return False
        await self._conn.execute("UPDATE blocks SET pseudonym = ? WHERE pseudonym = ?", (new, old))
        return True

    async def versions(self) -> list[KeyVersion]:
        rows = await self._conn.execute_fetchall("SELECT * FROM key_versions ORDER BY version")
        return [key_version_from(row) for row in rows]

    async def version_added(self, version: int, now: datetime) -> None:
        await self._conn.execute(
            "INSERT OR IGNORE INTO key_versions (version, added_at) VALUES (?, ?)", (version, to_text(now))
        )

    async def version_rewrapped(self, version: int, now: datetime) -> None:
        await self._conn.execute(
            "UPDATE key_versions SET rewrapped_at = ? WHERE version = ? AND rewrapped_at IS NULL",
            (to_text(now), version),
        )

    async def version_retired(self, version: int, now: datetime) -> None:
        await self._conn.execute(
            "INSERT OR IGNORE INTO key_versions (version, added_at) VALUES (?, ?)", (version, to_text(now))
        )
        await self._conn.execute(
            "UPDATE key_versions SET retired_at = ? WHERE version = ? AND retired_at IS NULL", (to_text(now), version)
        )


class SqliteProviderDeletions:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def enqueue(self, channels: Sequence[str], final_delivery: Sequence[str], now: datetime) -> int:
        if not channels:
            return 0
        channel_marks = ", ".join("?" * len(channels))
        final_marks = ", ".join("?" * len(final_delivery)) or "NULL"
        cursor = await self._conn.execute(
            "INSERT OR IGNORE INTO provider_deletions"  # noqa: S608 - only placeholders are joined in
            " (message_id, conversation_id, channel, attempts, next_attempt_at, queued_at)"
            " SELECT m.id, m.conversation_id, c.channel, 0, ?, ? FROM messages m"
            " JOIN conversations c ON c.id = m.conversation_id"
            f" WHERE m.provider_id IS NOT NULL AND c.channel IN ({channel_marks})"
            f" AND (m.direction = 'in' OR m.delivery IN ({final_marks}))"
            " AND NOT EXISTS (SELECT 1 FROM provider_deletions p WHERE p.message_id = m.id)",
            (to_text(now), to_text(now), *channels, *final_delivery),
        )
        return cursor.rowcount

    async def due(self, now: datetime, limit: int) -> list[ProviderDeletion]:
        rows = await self._conn.execute_fetchall(
            "SELECT p.*, m.direction FROM provider_deletions p JOIN messages m ON m.id = p.message_id"
            " WHERE p.next_attempt_at <= ? ORDER BY p.next_attempt_at LIMIT ?",
            (to_text(now), limit),
        )
        return [deletion_from(row) for row in rows]

    async def sealed_provider_id(self, message_id: str) -> bytes | None:
        rows = list(await self._conn.execute_fetchall("SELECT provider_id FROM messages WHERE id = ?", (message_id,)))
        return bytes(rows[0][0]) if rows and rows[0][0] is not None else None

    async def claim(self, message_id: str, now: datetime, lease_until: datetime) -> bool:
        cursor = await self._conn.execute(
            "UPDATE provider_deletions SET next_attempt_at = ? WHERE message_id = ? AND next_attempt_at <= ?",
            (to_text(lease_until), message_id, to_text(now)),
        )
        return cursor.rowcount == 1

    async def done(self, message_id: str) -> None:
        await self._conn.execute("DELETE FROM provider_deletions WHERE message_id = ?", (message_id,))
        await self._conn.execute("UPDATE messages SET provider_id = NULL WHERE id = ?", (message_id,))

    async def retry(self, message_id: str, attempts: int, next_attempt_at: datetime, code: str) -> None:
        await self._conn.execute(
            "UPDATE provider_deletions SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE message_id = ?",
            (attempts, to_text(next_attempt_at), code, message_id),
        )
