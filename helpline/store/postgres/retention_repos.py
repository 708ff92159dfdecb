"""The PostgreSQL SQL behind the data lifecycle: retention and shredding, master key material, provider deletion."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from helpline.core.models import KeyRef, KeyVersion, ProviderDeletion, RouteEntry, SealedSecret
from helpline.store.names import CONTENT_TABLES, KEY_OWNERS, key_owner, key_owners_after, secret_column
from helpline.store.postgres.connection import PgConnection as Connection
from helpline.store.rows import deletion_from, key_ref_from, key_version_from, route_from, sealed_secrets_from


class PgRetention:
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
            " WHERE c.status = 'closed' AND c.closed_at <= $1 ORDER BY c.closed_at LIMIT $2",
            (closed_before, limit),
        )
        return [row[0] for row in rows]

    async def forget_address(self, conversation_id: str) -> None:
        # Locked: a message reopening it waits for this to finish (then finds no route, and starts afresh), and
        # one that reopened it first leaves it routable.
        closed = list(
            await self._conn.execute_fetchall(
                "SELECT 1 FROM conversations WHERE id = $1 AND status = 'closed' FOR NO KEY UPDATE", (conversation_id,)
            )
        )
        if not closed:
            return
        await self._conn.execute("DELETE FROM routes WHERE conversation_id = $1", (conversation_id,))
        await self._conn.execute("DELETE FROM thread_keys WHERE conversation_id = $1", (conversation_id,))
        await self._conn.execute(
            "DELETE FROM vault WHERE conversation_id = $1 AND NOT EXISTS ("
            " SELECT 1 FROM outbox WHERE conversation_id = $1 AND state IN ('pending', 'sending'))",
            (conversation_id,),
        )

    async def transcripts_due(self, closed_before: datetime, held_before: datetime, limit: int) -> list[str]:
        rows = await self._conn.execute_fetchall(
            "SELECT c.id FROM conversations c"  # noqa: S608 - _held() is a constant clause
            " WHERE c.status = 'closed' AND c.closed_at <= $1 AND c.purged_at IS NULL"
            f" AND NOT {_held(2)} ORDER BY c.closed_at, c.id LIMIT $3",
            (closed_before, held_before, limit),
        )
        return [row[0] for row in rows]

    async def held_for_safeguarding(self, conversation_id: str, held_before: datetime) -> bool:
        rows = list(
            await self._conn.execute_fetchall(
                f"SELECT {_held(1)} FROM conversations c WHERE c.id = $2",  # noqa: S608 - a constant clause
                (held_before, conversation_id),
            )
        )
        return bool(rows and rows[0][0])

    async def shred_conversation(self, conversation_id: str, now: datetime) -> bool:
        # Decided and marked in one statement, which holds the row until the end: a message reopening it meanwhile
        # either reopened it first (then this changes nothing) or waits and finds it purged.
        shredded = await self._conn.execute(
            "UPDATE conversations SET data_key = NULL, kek_version = NULL, purged_at = $1"
            " WHERE id = $2 AND status = 'closed' AND purged_at IS NULL",
            (now, conversation_id),
        )
        if shredded.rowcount != 1:
            return False
        one = (conversation_id,)
        for table in CONTENT_TABLES:
            await self._conn.execute(f"DELETE FROM {table} WHERE conversation_id = $1", one)  # noqa: S608 - fixed names
        # Safeguarding rows stay as content-free statistics (category, level, decision, times); their sealed
        # notes and the free-text disclosure reason go.
        await self._conn.execute(
            "UPDATE escalations SET note = ''::bytea, decision_note = NULL WHERE conversation_id = $1", one
        )
        await self._conn.execute("UPDATE disclosures SET reason = '' WHERE conversation_id = $1", one)
        await self._conn.execute(
            "DELETE FROM blocks WHERE conversation_id = $1 AND (lifted_at IS NOT NULL OR expires_at <= $2)",
            (conversation_id, now),
        )
        return True

    async def records_due(self, last_contact_before: datetime, limit: int) -> list[str]:
        before = last_contact_before
        rows = await self._conn.execute_fetchall(
            "SELECT r.id FROM records r WHERE r.ended_at IS NULL AND r.consented_at <= $1"
            " AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.record_id = r.id"
            "  AND (c.status != 'closed' OR c.closed_at > $2))"
            " ORDER BY r.consented_at, r.id LIMIT $3",
            (before, before, limit),
        )
        return [row[0] for row in rows]

    async def shred_record(self, record_id: str, reason: str, now: datetime) -> bool:
        cursor = await self._conn.execute(
            "UPDATE records SET data_key = NULL, kek_version = NULL, blind_index = NULL, name = ''::bytea,"
            " date_of_birth = ''::bytea, contact_details = ''::bytea, summary = ''::bytea,"
            " ended_at = $1, end_reason = $2"
            " WHERE id = $3 AND ended_at IS NULL",
            (now, reason, record_id),
        )
        # Which conversations came from the same person is itself something the record kept.
        await self._conn.execute("UPDATE conversations SET record_id = NULL WHERE record_id = $1", (record_id,))
        return cursor.rowcount == 1

    async def forget_inbound_keys(self, seen_before: datetime) -> int:
        cursor = await self._conn.execute("DELETE FROM inbound_seen WHERE seen_at <= $1", (seen_before,))
        return cursor.rowcount

    async def forget_ended_blocks(self, now: datetime) -> int:
        cursor = await self._conn.execute(
            "DELETE FROM blocks WHERE (lifted_at IS NOT NULL OR expires_at <= $1)"
            " AND conversation_id IN (SELECT id FROM conversations WHERE purged_at IS NOT NULL)",
            (now,),
        )
        return cursor.rowcount


def _held(param: int) -> str:
    """Held for safeguarding: while any of its escalations is not closed, or the latest closed after ``$param``."""
    return (
        "EXISTS (SELECT 1 FROM escalations e WHERE e.conversation_id = c.id"  # noqa: S608 - only a number goes in
        f" AND (e.state != 'closed' OR e.closed_at IS NULL OR e.closed_at > ${int(param)}))"
    )


class PgKeys:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def wrapped(self, after: tuple[str, str] | None, limit: int, not_version: int | None) -> list[KeyRef]:
        found: list[KeyRef] = []
        for table, start in key_owners_after(after):
            rows = await self._conn.execute_fetchall(
                f"SELECT id, data_key, kek_version FROM {table}"  # noqa: S608 - table is one of KEY_OWNERS
                " WHERE data_key IS NOT NULL AND id > $1 AND ($2::integer IS NULL OR kek_version IS DISTINCT FROM $2)"
                " ORDER BY id LIMIT $3",
                (start, not_version, limit - len(found)),
            )
            found += [key_ref_from(table, row) for row in rows]
            if len(found) >= limit:
                break
        return found

    async def replace_wrapped(self, old: KeyRef, new: KeyRef) -> bool:
        table = key_owner(old, new)
        cursor = await self._conn.execute(
            f"UPDATE {table} SET data_key = $1, kek_version = $2 WHERE id = $3 AND data_key = $4",  # noqa: S608 - checked
            (new.wrapped, new.kek_version, old.row_id, old.wrapped),
        )
        return cursor.rowcount == 1

    async def count_wrapped(self, version: int) -> int:
        total = 0
        for table in KEY_OWNERS:
            rows = list(
                await self._conn.execute_fetchall(
                    f"SELECT COUNT(*) FROM {table} WHERE data_key IS NOT NULL AND kek_version = $1",  # noqa: S608
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
            f"UPDATE users SET {column} = $1 WHERE id = $2 AND {column} = $3",  # noqa: S608 - checked above
            (sealed, old.user_id, old.sealed),
        )
        return cursor.rowcount == 1

    async def routes(self, after: str | None, limit: int) -> list[RouteEntry]:
        rows = await self._conn.execute_fetchall(
            "SELECT r.conversation_id, r.pseudonym, c.channel, v.address, c.data_key, c.kek_version"
            " FROM routes r JOIN conversations c ON c.id = r.conversation_id"
            " JOIN vault v ON v.conversation_id = r.conversation_id"
            " WHERE c.data_key IS NOT NULL AND r.conversation_id > $1 ORDER BY r.conversation_id LIMIT $2",
            (after or "", limit),
        )
        return [route_from(row) for row in rows]

    async def rekey_route(self, conversation_id: str, old: bytes, new: bytes) -> bool:
        cursor = await self._conn.execute(
            "UPDATE routes SET pseudonym = $1 WHERE conversation_id = $2 AND pseudonym = $3",
            (new, conversation_id, old),
        )
        if cursor.rowcount != 1:
            return False
        await self._conn.execute("UPDATE blocks SET pseudonym = $1 WHERE pseudonym = $2", (new, old))
        return True

    async def versions(self) -> list[KeyVersion]:
        rows = await self._conn.execute_fetchall("SELECT * FROM key_versions ORDER BY version")
        return [key_version_from(row) for row in rows]

    async def version_added(self, version: int, now: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO key_versions (version, added_at) VALUES ($1, $2) ON CONFLICT DO NOTHING", (version, now)
        )

    async def version_rewrapped(self, version: int, now: datetime) -> None:
        await self._conn.execute(
            "UPDATE key_versions SET rewrapped_at = $1 WHERE version = $2 AND rewrapped_at IS NULL",
            (now, version),
        )

    async def version_retired(self, version: int, now: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO key_versions (version, added_at) VALUES ($1, $2) ON CONFLICT DO NOTHING", (version, now)
        )
        await self._conn.execute(
            "UPDATE key_versions SET retired_at = $1 WHERE version = $2 AND retired_at IS NULL", (now, version)
        )


class PgProviderDeletions:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def enqueue(self, channels: Sequence[str], final_delivery: Sequence[str], now: datetime) -> int:
        if not channels:
            return 0
        cursor = await self._conn.execute(
            "INSERT INTO provider_deletions"
            " (message_id, conversation_id, channel, attempts, next_attempt_at, queued_at)"
            " SELECT m.id, m.conversation_id, c.channel, 0, $1::timestamptz, $1::timestamptz FROM messages m"
            " JOIN conversations c ON c.id = m.conversation_id"
            " WHERE m.provider_id IS NOT NULL AND c.channel = ANY($2::text[])"
            " AND (m.direction = 'in' OR m.delivery = ANY($3::text[]))"
            " ON CONFLICT DO NOTHING",
            (now, list(channels), list(final_delivery)),
        )
        return cursor.rowcount

    async def due(self, now: datetime, limit: int) -> list[ProviderDeletion]:
        rows = await self._conn.execute_fetchall(
            "SELECT p.*, m.direction FROM provider_deletions p JOIN messages m ON m.id = p.message_id"
            " WHERE p.next_attempt_at <= $1 ORDER BY p.next_attempt_at LIMIT $2",
            (now, limit),
        )
        return [deletion_from(row) for row in rows]

    async def sealed_provider_id(self, message_id: str) -> bytes | None:
        rows = list(await self._conn.execute_fetchall("SELECT provider_id FROM messages WHERE id = $1", (message_id,)))
        return bytes(rows[0][0]) if rows and rows[0][0] is not None else None

    async def claim(self, message_id: str, now: datetime, lease_until: datetime) -> bool:
        result = await self._conn.execute(
            "UPDATE provider_deletions SET next_attempt_at = $1 WHERE message_id = $2 AND next_attempt_at <= $3",
            (lease_until, message_id, now),
        )
        return result.rowcount == 1

    async def done(self, message_id: str) -> None:
        await self._conn.execute("DELETE FROM provider_deletions WHERE message_id = $1", (message_id,))
        await self._conn.execute("UPDATE messages SET provider_id = NULL WHERE id = $1", (message_id,))

    async def retry(self, message_id: str, attempts: int, next_attempt_at: datetime, code: str) -> None:
        await self._conn.execute(
            "UPDATE provider_deletions SET attempts = $1, next_attempt_at = $2, last_error = $3 WHERE message_id = $4",
            (attempts, next_attempt_at, code, message_id),
        )
