"""The PostgreSQL SQL behind ``core.ports.Tx``: one small repository class per table group.

Times are ``timestamptz`` (asyncpg reads and writes aware datetimes), binary values ``bytea``. Reads that decide
a write lock what they read when the connection is in a write transaction (``PgConnection.lock``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from helpline.audit.chain import StoredAuditRow, canonical
from helpline.audit.events import AuditEntry
from helpline.core.models import (
    Accepted,
    Conversation,
    KeyRef,
    OutboxItem,
    StoredMessage,
)
from helpline.errors import StoreError
from helpline.store.postgres.account_repos import PgSessions, PgSignInLimits, PgUsers
from helpline.store.postgres.connection import PgConnection as Connection
from helpline.store.postgres.console_repos import (
    PgBlocks,
    PgCanned,
    PgNotes,
    PgRecords,
    PgRuntimeSettings,
)
from helpline.store.postgres.events import PgEvents
from helpline.store.postgres.report_repos import PgReports
from helpline.store.postgres.retention_repos import PgKeys, PgProviderDeletions, PgRetention
from helpline.store.postgres.safeguarding_repos import (
    PgDisclosures,
    PgEscalations,
    PgOversight,
    PgStaffNotifications,
)

_CONVERSATION = "SELECT c.*, u.username AS assignee_name FROM conversations c LEFT JOIN users u ON u.id = c.assignee_id"


def _conversation(row: asyncpg.Record) -> Conversation:
    data_key = row["data_key"]
    return Conversation(
        id=row["id"],
        channel=row["channel"],
        status=row["status"],
        assignee_id=row["assignee_id"],
        assignee_name=row["assignee_name"],
        priority=row["priority"],
        created_at=row["created_at"],
        waiting_since=row["waiting_since"],
        closed_at=row["closed_at"],
        outcome=row["outcome"],
        key=KeyRef("conversations", row["id"], data_key, row["kek_version"]) if data_key is not None else None,
        last_seq=row["last_seq"],
        record_id=row["record_id"],
        contact_left_at=row["contact_left_at"],
        contact_left_reason=row["contact_left_reason"],
        risk_why=bytes(row["risk_why"]) if row["risk_why"] is not None else None,
    )


class PgConversations:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def get(self, conversation_id: str) -> Conversation | None:
        rows = list(await self._conn.execute_fetchall(f"{_CONVERSATION} WHERE c.id = $1", (conversation_id,)))
        return _conversation(rows[0]) if rows else None

    async def lock(self, conversation_id: str) -> Conversation | None:
        lock = self._conn.lock("FOR NO KEY UPDATE OF c")
        rows = list(await self._conn.execute_fetchall(f"{_CONVERSATION} WHERE c.id = $1{lock}", (conversation_id,)))
        return _conversation(rows[0]) if rows else None

    async def find_by_route(self, pseudonym: bytes) -> Conversation | None:
        # The route's row too: if a purge deletes it meanwhile, this finds nothing and the sender starts afresh.
        lock = self._conn.lock("FOR NO KEY UPDATE OF c, r")
        rows = list(
            await self._conn.execute_fetchall(
                f"{_CONVERSATION} JOIN routes r ON r.conversation_id = c.id WHERE r.pseudonym = $1{lock}", (pseudonym,)
            )
        )
        return _conversation(rows[0]) if rows else None

    async def insert(self, conversation: Conversation) -> None:
        key = conversation.key
        await self._conn.execute(
            "INSERT INTO conversations (id, channel, status, assignee_id, priority, created_at, waiting_since,"
            " data_key, kek_version, last_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            (
                conversation.id,
                conversation.channel,
                conversation.status,
                conversation.assignee_id,
                conversation.priority,
                conversation.created_at,
                conversation.waiting_since,
                key.wrapped if key else None,
                key.kek_version if key else None,
                conversation.last_seq,
            ),
        )

    async def add_route(self, pseudonym: bytes, conversation_id: str) -> bool:
        # Waits for a concurrent insert of the same pseudonym to end; if that one commits, this one does nothing.
        result = await self._conn.execute(
            "INSERT INTO routes (pseudonym, conversation_id) VALUES ($1, $2) ON CONFLICT (pseudonym) DO NOTHING",
            (pseudonym, conversation_id),
        )
        return result.rowcount == 1

    async def discard(self, conversation_id: str) -> None:
        await self._conn.execute("DELETE FROM conversations WHERE id = $1", (conversation_id,))

    async def remove_route(self, conversation_id: str) -> None:
        await self._conn.execute("DELETE FROM routes WHERE conversation_id = $1", (conversation_id,))
        await self._conn.execute("DELETE FROM thread_keys WHERE conversation_id = $1", (conversation_id,))

    async def find_by_thread(self, keys: Sequence[bytes]) -> Conversation | None:
        if not keys:
            return None
        lock = self._conn.lock("FOR NO KEY UPDATE OF c, t")
        rows = list(
            await self._conn.execute_fetchall(
                f"{_CONVERSATION} JOIN thread_keys t ON t.conversation_id = c.id"
                f" WHERE t.key = ANY($1::bytea[]) ORDER BY c.created_at DESC LIMIT 1{lock}",
                (list(keys),),
            )
        )
        return _conversation(rows[0]) if rows else None

    async def add_thread_key(self, key: bytes, conversation_id: str) -> None:
        await self._conn.execute(
            "INSERT INTO thread_keys (key, conversation_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            (key, conversation_id),
        )

    async def put_reply_context(self, conversation_id: str, sealed_context: bytes) -> None:
        await self._conn.execute(
            "UPDATE vault SET reply_context = $1 WHERE conversation_id = $2", (sealed_context, conversation_id)
        )

    async def get_reply_context(self, conversation_id: str) -> bytes | None:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT reply_context FROM vault WHERE conversation_id = $1", (conversation_id,)
            )
        )
        return bytes(rows[0]["reply_context"]) if rows and rows[0]["reply_context"] is not None else None

    async def put_vault(self, conversation_id: str, sealed_address: bytes) -> None:
        await self._conn.execute(
            "INSERT INTO vault (conversation_id, address) VALUES ($1, $2)", (conversation_id, sealed_address)
        )

    async def get_vault(self, conversation_id: str) -> bytes | None:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT address FROM vault WHERE conversation_id = $1", (conversation_id,)
            )
        )
        return bytes(rows[0]["address"]) if rows else None

    async def delete_vault(self, conversation_id: str) -> None:
        await self._conn.execute("DELETE FROM vault WHERE conversation_id = $1", (conversation_id,))

    async def claim(self, conversation_id: str, user_id: str) -> bool:
        cursor = await self._conn.execute(
            "UPDATE conversations SET assignee_id = $1, status = 'active'"
            " WHERE id = $2 AND assignee_id IS NULL AND status = 'waiting'",
            (user_id, conversation_id),
        )
        return cursor.rowcount == 1

    async def raise_priority(self, conversation_id: str, band: int, sealed_why: bytes | None = None) -> bool:
        rows = list(
            await self._conn.execute_fetchall(
                "UPDATE conversations SET priority = $1, risk_why = COALESCE($3::bytea, risk_why)"
                " WHERE id = $2 AND priority < $1 RETURNING id",
                (band, conversation_id, sealed_why),
            )
        )
        return bool(rows)

    async def close(self, conversation_id: str, outcome: str, now: datetime) -> bool:
        cursor = await self._conn.execute(
            "UPDATE conversations SET status = 'closed', closed_at = $1, outcome = $2"
            " WHERE id = $3 AND status != 'closed'",
            (now, outcome, conversation_id),
        )
        return cursor.rowcount == 1

    async def next_seq(self, conversation_id: str, band: int = 0, sealed_why: bytes | None = None) -> int:
        # SET expressions read the row as it was: the old priority decides whether the reason is replaced.
        rows = list(
            await self._conn.execute_fetchall(
                "UPDATE conversations SET last_seq = last_seq + 1, priority = GREATEST(priority, $1),"
                " risk_why = CASE WHEN $1 > priority AND $3::bytea IS NOT NULL THEN $3::bytea ELSE risk_why END"
                " WHERE id = $2 RETURNING last_seq",
                (band, conversation_id, sealed_why),
            )
        )
        return int(rows[0][0])

    async def queue(self, user_id: str, limit: int) -> list[Conversation]:
        waiting = await self._conn.execute_fetchall(
            f"{_CONVERSATION} WHERE c.status = 'waiting' ORDER BY c.priority DESC, c.waiting_since LIMIT $1", (limit,)
        )
        mine = await self._conn.execute_fetchall(
            f"{_CONVERSATION} WHERE c.assignee_id = $1 AND c.status = 'active' ORDER BY c.waiting_since", (user_id,)
        )
        return [_conversation(row) for row in [*waiting, *mine]]

    async def next_waiting(self) -> Conversation | None:
        # In a write, a conversation another volunteer's take-next is claiming right now is passed over.
        lock = self._conn.lock("FOR NO KEY UPDATE OF c SKIP LOCKED")
        rows = list(
            await self._conn.execute_fetchall(
                f"{_CONVERSATION} WHERE c.status = 'waiting' AND c.assignee_id IS NULL AND c.contact_left_at IS NULL"
                f" ORDER BY c.priority DESC, c.waiting_since LIMIT 1{lock}"
            )
        )
        return _conversation(rows[0]) if rows else None

    async def unanswered(self, conversation_ids: Sequence[str]) -> dict[str, tuple[int, datetime]]:
        if not conversation_ids:
            return {}
        rows = await self._conn.execute_fetchall(
            "SELECT m.conversation_id, COUNT(*), MIN(m.created_at) FROM messages m"
            " WHERE m.conversation_id = ANY($1::text[]) AND m.direction = 'in' AND m.seq > COALESCE("
            "(SELECT MAX(o.seq) FROM messages o WHERE o.conversation_id = m.conversation_id"
            " AND o.direction = 'out' AND o.author_id IS NOT NULL), 0)"
            " GROUP BY m.conversation_id",
            (list(conversation_ids),),
        )
        return {row[0]: (int(row[1]), row[2]) for row in rows}

    async def held_by(self, user_id: str) -> list[Conversation]:
        rows = await self._conn.execute_fetchall(
            f"{_CONVERSATION} WHERE c.assignee_id = $1 AND c.status = 'active' ORDER BY c.waiting_since", (user_id,)
        )
        return [_conversation(row) for row in rows]

    async def count_active(self, user_id: str) -> int:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT COUNT(*) FROM conversations WHERE assignee_id = $1 AND status = 'active'", (user_id,)
            )
        )
        return int(rows[0][0])

    async def assign(self, conversation_id: str, user_id: str) -> bool:
        cursor = await self._conn.execute(
            "UPDATE conversations SET assignee_id = $1 WHERE id = $2 AND status = 'active'", (user_id, conversation_id)
        )
        return cursor.rowcount == 1

    async def return_to_queue(self, conversation_id: str) -> bool:
        cursor = await self._conn.execute(
            "UPDATE conversations SET assignee_id = NULL, status = 'waiting' WHERE id = $1 AND status = 'active'",
            (conversation_id,),
        )
        return cursor.rowcount == 1

    async def route_of(self, conversation_id: str) -> bytes | None:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT pseudonym FROM routes WHERE conversation_id = $1", (conversation_id,)
            )
        )
        return bytes(rows[0][0]) if rows else None

    async def set_record(self, conversation_id: str, record_id: str) -> None:
        await self._conn.execute("UPDATE conversations SET record_id = $1 WHERE id = $2", (record_id, conversation_id))

    async def set_classification(self, conversation_id: str, contact_type: str, missing_type: str | None) -> None:
        await self._conn.execute(
            "UPDATE conversations SET contact_type = $1, missing_type = $2 WHERE id = $3",
            (contact_type, missing_type, conversation_id),
        )

    async def for_record(self, record_id: str) -> list[str]:
        rows = await self._conn.execute_fetchall(
            "SELECT id FROM conversations WHERE record_id = $1 ORDER BY created_at", (record_id,)
        )
        return [row[0] for row in rows]

    async def held(self) -> list[Conversation]:
        rows = await self._conn.execute_fetchall(
            f"{_CONVERSATION} WHERE c.status = 'active' ORDER BY c.priority DESC, c.waiting_since"
        )
        return [_conversation(row) for row in rows]

    async def waiting_stats(self) -> tuple[int, datetime | None]:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT COUNT(*), MIN(waiting_since) FROM conversations"
                " WHERE status = 'waiting' AND contact_left_at IS NULL"
            )
        )
        return int(rows[0][0]), rows[0][1]

    async def set_contact_left(self, conversation_id: str, reason: str, now: datetime) -> None:
        await self._conn.execute(
            "UPDATE conversations SET contact_left_at = $1, contact_left_reason = $2 WHERE id = $3",
            (now, reason, conversation_id),
        )

    async def reopen(self, conversation_id: str, now: datetime) -> bool:
        cursor = await self._conn.execute(
            "UPDATE conversations SET status = 'waiting', assignee_id = NULL, closed_at = NULL, outcome = NULL,"
            " waiting_since = $1 WHERE id = $2 AND status = 'closed' AND purged_at IS NULL",
            (now, conversation_id),
        )
        return cursor.rowcount == 1


# ``ConversationRepo.next_seq`` and the message's insert in one statement: the conversation's row is locked by
# the update until the unit ends, so messages commit in sequence order. SET expressions read the row as it was:
# the old priority decides whether the reason is replaced.
_APPEND_MESSAGE = (
    "WITH numbered AS (UPDATE conversations SET last_seq = last_seq + 1, priority = GREATEST(priority, $1),"
    " risk_why = CASE WHEN $1 > priority AND $3::bytea IS NOT NULL THEN $3::bytea ELSE risk_why END"
    " WHERE id = $2 RETURNING last_seq)"
    " INSERT INTO messages (id, conversation_id, seq, direction, author_id, body, created_at, delivery,"
    " delivery_error, provider_id) SELECT $4, $2, numbered.last_seq, $5, $6, $7, $8, $9, $10, $11 FROM numbered"
    " RETURNING seq"
)


class PgMessages:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    _SELECT = "SELECT m.*, u.username AS author_name FROM messages m LEFT JOIN users u ON u.id = m.author_id"

    @staticmethod
    def _message(row: asyncpg.Record) -> StoredMessage:
        return StoredMessage(
            id=row["id"],
            conversation_id=row["conversation_id"],
            seq=row["seq"],
            direction=row["direction"],
            author_id=row["author_id"],
            author_name=row["author_name"],
            body=bytes(row["body"]),
            created_at=row["created_at"],
            delivery=row["delivery"],
            delivery_error=row["delivery_error"],
            meaning=None if row["meaning"] is None else bytes(row["meaning"]),
        )

    async def insert(self, message: StoredMessage, sealed_provider_id: bytes | None = None) -> None:
        await self._conn.execute(
            "INSERT INTO messages (id, conversation_id, seq, direction, author_id, body, created_at, delivery,"
            " delivery_error, provider_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            (
                message.id,
                message.conversation_id,
                message.seq,
                message.direction,
                message.author_id,
                message.body,
                message.created_at,
                message.delivery,
                message.delivery_error,
                sealed_provider_id,
            ),
        )

    async def append(
        self,
        message: StoredMessage,
        band: int = 0,
        sealed_why: bytes | None = None,
        sealed_provider_id: bytes | None = None,
    ) -> int:
        rows = list(
            await self._conn.execute_fetchall(
                _APPEND_MESSAGE,
                (
                    band,
                    message.conversation_id,
                    sealed_why,
                    message.id,
                    message.direction,
                    message.author_id,
                    message.body,
                    message.created_at,
                    message.delivery,
                    message.delivery_error,
                    sealed_provider_id,
                ),
            )
        )
        if not rows:
            raise StoreError("a message was added to a conversation that does not exist")
        return int(rows[0][0])

    async def get(self, message_id: str) -> StoredMessage | None:
        rows = list(await self._conn.execute_fetchall(f"{self._SELECT} WHERE m.id = $1", (message_id,)))
        return self._message(rows[0]) if rows else None

    async def for_conversation(self, conversation_id: str) -> list[StoredMessage]:
        rows = await self._conn.execute_fetchall(
            f"{self._SELECT} WHERE m.conversation_id = $1 ORDER BY m.seq", (conversation_id,)
        )
        return [self._message(row) for row in rows]

    async def after(self, conversation_id: str, after_seq: int, limit: int) -> list[StoredMessage]:
        rows = await self._conn.execute_fetchall(
            f"{self._SELECT} WHERE m.conversation_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3",
            (conversation_id, after_seq, limit),
        )
        return [self._message(row) for row in rows]

    async def set_delivery(self, message_id: str, delivery: str, error: str | None) -> None:
        await self._conn.execute(
            "UPDATE messages SET delivery = $1, delivery_error = COALESCE($2, delivery_error) WHERE id = $3",
            (delivery, error, message_id),
        )

    async def set_provider_id(self, message_id: str, sealed_provider_id: bytes) -> None:
        await self._conn.execute("UPDATE messages SET provider_id = $1 WHERE id = $2", (sealed_provider_id, message_id))

    async def set_meaning(self, message_id: str, sealed_meaning: bytes) -> None:
        await self._conn.execute("UPDATE messages SET meaning = $1 WHERE id = $2", (sealed_meaning, message_id))


class PgInbox:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def remember(self, key: bytes, now: datetime) -> bool:
        cursor = await self._conn.execute(
            "INSERT INTO inbound_seen (key, seen_at) VALUES ($1, $2) ON CONFLICT DO NOTHING", (key, now)
        )
        return cursor.rowcount == 1

    async def seen(self, key: bytes) -> bool:
        rows = list(await self._conn.execute_fetchall("SELECT 1 FROM inbound_seen WHERE key = $1", (key,)))
        return bool(rows)


class PgIntake:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(self, intake_id: str, accepted_at: datetime, sealed: bytes) -> None:
        await self._conn.execute(
            "INSERT INTO intake (id, accepted_at, sealed) VALUES ($1, $2, $3)", (intake_id, accepted_at, sealed)
        )

    async def waiting(self, limit: int, max_attempts: int, accepted_before: datetime | None = None) -> list[Accepted]:
        rows = await self._conn.execute_fetchall(
            "SELECT id, accepted_at, sealed, attempts FROM intake WHERE attempts < $1"
            " AND ($3::timestamptz IS NULL OR accepted_at < $3) ORDER BY seq LIMIT $2",
            (max_attempts, limit, accepted_before),
        )
        return [Accepted(r["id"], r["accepted_at"], bytes(r["sealed"]), r["attempts"]) for r in rows]

    async def remove(self, intake_id: str) -> bool:
        cursor = await self._conn.execute("DELETE FROM intake WHERE id = $1", (intake_id,))
        return cursor.rowcount == 1

    async def failed(self, intake_id: str) -> None:
        await self._conn.execute("UPDATE intake SET attempts = attempts + 1 WHERE id = $1", (intake_id,))

    async def sealed(self) -> list[bytes]:
        return [bytes(r["sealed"]) for r in await self._conn.execute_fetchall("SELECT sealed FROM intake")]


class PgOutbox:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @staticmethod
    def _item(row: asyncpg.Record) -> OutboxItem:
        return OutboxItem(
            id=row["id"],
            message_id=row["message_id"],
            conversation_id=row["conversation_id"],
            channel=row["channel"],
            state=row["state"],
            attempts=row["attempts"],
            next_attempt_at=row["next_attempt_at"],
        )

    async def add(self, item: OutboxItem) -> None:
        await self._conn.execute(
            "INSERT INTO outbox (id, message_id, conversation_id, channel, state, attempts, next_attempt_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            (
                item.id,
                item.message_id,
                item.conversation_id,
                item.channel,
                item.state,
                item.attempts,
                item.next_attempt_at,
            ),
        )

    async def get(self, item_id: str) -> OutboxItem | None:
        rows = list(await self._conn.execute_fetchall("SELECT * FROM outbox WHERE id = $1", (item_id,)))
        return self._item(rows[0]) if rows else None

    async def claim(self, item_id: str, now: datetime) -> OutboxItem | None:
        lock = self._conn.lock("FOR UPDATE SKIP LOCKED")
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT * FROM outbox WHERE id = $1 AND state IN ('pending', 'sending')"  # noqa: S608 - a fixed clause
                f" AND next_attempt_at <= $2{lock}",
                (item_id, now),
            )
        )
        return self._item(rows[0]) if rows else None

    async def due(self, now: datetime, limit: int) -> list[OutboxItem]:
        rows = await self._conn.execute_fetchall(
            "SELECT * FROM outbox WHERE state IN ('pending', 'sending') AND next_attempt_at <= $1"
            " ORDER BY next_attempt_at LIMIT $2",
            (now, limit),
        )
        return [self._item(row) for row in rows]

    async def update(self, item_id: str, state: str, attempts: int, next_attempt_at: datetime) -> None:
        await self._conn.execute(
            "UPDATE outbox SET state = $1, attempts = $2, next_attempt_at = $3 WHERE id = $4",
            (state, attempts, next_attempt_at, item_id),
        )

    async def sending(self, limit: int, due_by: datetime | None = None) -> list[OutboxItem]:
        rows = await self._conn.execute_fetchall(
            "SELECT * FROM outbox WHERE state = 'sending' AND ($2::timestamptz IS NULL OR next_attempt_at <= $2)"
            " ORDER BY next_attempt_at LIMIT $1",
            (limit, due_by),
        )
        return [self._item(row) for row in rows]

    async def pending_for(self, conversation_id: str) -> int:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT COUNT(*) FROM outbox WHERE conversation_id = $1 AND state IN ('pending', 'sending')",
                (conversation_id,),
            )
        )
        return int(rows[0][0])


class PgAudit:
    """The hash-chained audit log, appended to without a lock.

    Appending straight onto the chain would serialise every auditing transaction on the chain head's row until
    it commits. An entry is therefore inserted unchained, with its canonical bytes, into ``audit_pending``, and
    the database function ``audit_link()`` (migration 0018) hashes the committed ones onto the chain in order:
    the notifier runs it every fraction of a second on each instance, and ``rows`` runs it first.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def append(self, entry: AuditEntry) -> None:
        await self._conn.execute(
            "INSERT INTO audit_pending (at, actor, action, object_id, detail, canonical)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            (
                entry.at,
                entry.actor,
                entry.action,
                entry.object_id,
                json.dumps(entry.detail, sort_keys=True),
                canonical(entry),
            ),
        )

    async def rows(self) -> list[StoredAuditRow]:
        """Every audit row in order, for verification: the committed entries linked first."""
        await self._conn.execute("SELECT audit_link()")
        rows = await self._conn.execute_fetchall("SELECT * FROM audit ORDER BY seq")
        return [
            StoredAuditRow(
                seq=row["seq"],
                entry=AuditEntry(row["at"], row["actor"], row["action"], row["object_id"], json.loads(row["detail"])),
                prev_hash=bytes(row["prev_hash"]),
                hash=bytes(row["hash"]),
            )
            for row in rows
        ]


class PgTx:
    """All repositories over one connection: a ``core.ports.Tx``."""

    def __init__(self, conn: Connection) -> None:
        self.conversations = PgConversations(conn)
        self.messages = PgMessages(conn)
        self.inbox = PgInbox(conn)
        self.intake = PgIntake(conn)
        self.outbox = PgOutbox(conn)
        self.users = PgUsers(conn)
        self.sessions = PgSessions(conn)
        self.audit = PgAudit(conn)
        self.notes = PgNotes(conn)
        self.records = PgRecords(conn)
        self.blocks = PgBlocks(conn)
        self.canned = PgCanned(conn)
        self.runtime_settings = PgRuntimeSettings(conn)
        self.escalations = PgEscalations(conn)
        self.disclosures = PgDisclosures(conn)
        self.oversight = PgOversight(conn)
        self.staff_notifications = PgStaffNotifications(conn)
        self.retention = PgRetention(conn)
        self.keys = PgKeys(conn)
        self.provider_deletions = PgProviderDeletions(conn)
        self.events = PgEvents(conn)
        self.reports = PgReports(conn)
        self.signin_limits = PgSignInLimits(conn)
