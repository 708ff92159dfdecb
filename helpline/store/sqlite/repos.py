"""The SQL behind ``core.ports.Tx``: one small repository class per table group."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from helpline.audit.chain import GENESIS, StoredAuditRow, link
from helpline.audit.events import AuditEntry
from helpline.clock import from_text, to_text
from helpline.core.events import Event
from helpline.core.models import (
    Accepted,
    Conversation,
    KeyRef,
    OutboxItem,
    StoredMessage,
)
from helpline.store.sqlite.account_repos import SqliteSessions, SqliteSignInLimits, SqliteUsers
from helpline.store.sqlite.connection import Connection
from helpline.store.sqlite.console_repos import (
    SqliteBlocks,
    SqliteCanned,
    SqliteNotes,
    SqliteRecords,
    SqliteRuntimeSettings,
)
from helpline.store.sqlite.report_repos import SqliteReports
from helpline.store.sqlite.retention_repos import SqliteKeys, SqliteProviderDeletions, SqliteRetention
from helpline.store.sqlite.safeguarding_repos import (
    SqliteDisclosures,
    SqliteEscalations,
    SqliteOversight,
    SqliteStaffNotifications,
)

_CONVERSATION = "SELECT c.*, u.username AS assignee_name FROM conversations c LEFT JOIN users u ON u.id = c.assignee_id"


def _time(value: str | None) -> datetime | None:
    return from_text(value) if value is not None else None


def _conversation(row: sqlite3.Row) -> Conversation:
    data_key = row["data_key"]
    return Conversation(
        id=row["id"],
        channel=row["channel"],
        status=row["status"],
        assignee_id=row["assignee_id"],
        assignee_name=row["assignee_name"],
        priority=row["priority"],
        created_at=from_text(row["created_at"]),
        waiting_since=from_text(row["waiting_since"]),
        closed_at=_time(row["closed_at"]),
        outcome=row["outcome"],
        key=KeyRef("conversations", row["id"], bytes(data_key), row["kek_version"]) if data_key is not None else None,
        last_seq=row["last_seq"],
        record_id=row["record_id"],
        contact_left_at=_time(row["contact_left_at"]),
        contact_left_reason=row["contact_left_reason"],
        risk_why=bytes(row["risk_why"]) if row["risk_why"] is not None else None,
    )


class SqliteConversations:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def get(self, conversation_id: str) -> Conversation | None:
        rows = list(await self._conn.execute_fetchall(f"{_CONVERSATION} WHERE c.id = ?", (conversation_id,)))
        return _conversation(rows[0]) if rows else None

    async def lock(self, conversation_id: str) -> Conversation | None:
        # One writer at a time (BEGIN IMMEDIATE): the whole unit holds the database's write lock already.
        return await self.get(conversation_id)

    async def find_by_route(self, pseudonym: bytes) -> Conversation | None:
        rows = list(
            await self._conn.execute_fetchall(
                f"{_CONVERSATION} JOIN routes r ON r.conversation_id = c.id WHERE r.pseudonym = ?", (pseudonym,)
            )
        )
        return _conversation(rows[0]) if rows else None

    async def insert(self, conversation: Conversation) -> None:
        key = conversation.key
        await self._conn.execute(
            "INSERT INTO conversations (id, channel, status, assignee_id, priority, created_at, waiting_since,"
            " data_key, kek_version, last_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                conversation.id,
                conversation.channel,
                conversation.status,
                conversation.assignee_id,
                conversation.priority,
                to_text(conversation.created_at),
                to_text(conversation.waiting_since),
                key.wrapped if key else None,
                key.kek_version if key else None,
                conversation.last_seq,
            ),
        )

    async def add_route(self, pseudonym: bytes, conversation_id: str) -> bool:
        cursor = await self._conn.execute(
            "INSERT INTO routes (pseudonym, conversation_id) VALUES (?, ?) ON CONFLICT (pseudonym) DO NOTHING",
            (pseudonym, conversation_id),
        )
        return cursor.rowcount == 1

    async def discard(self, conversation_id: str) -> None:
        await self._conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    async def remove_route(self, conversation_id: str) -> None:
        await self._conn.execute("DELETE FROM routes WHERE conversation_id = ?", (conversation_id,))
        await self._conn.execute("DELETE FROM thread_keys WHERE conversation_id = ?", (conversation_id,))

    async def find_by_thread(self, keys: Sequence[bytes]) -> Conversation | None:
        if not keys:
            return None
        marks = ", ".join("?" * len(keys))
        rows = list(
            await self._conn.execute_fetchall(
                f"{_CONVERSATION} JOIN thread_keys t ON t.conversation_id = c.id"
                f" WHERE t.key IN ({marks}) ORDER BY c.created_at DESC LIMIT 1",
                tuple(keys),
            )
        )
        return _conversation(rows[0]) if rows else None

    async def add_thread_key(self, key: bytes, conversation_id: str) -> None:
        await self._conn.execute(
            "INSERT OR IGNORE INTO thread_keys (key, conversation_id) VALUES (?, ?)", (key, conversation_id)
        )

    async def put_reply_context(self, conversation_id: str, sealed_context: bytes) -> None:
        await self._conn.execute(
            "UPDATE vault SET reply_context = ? WHERE conversation_id = ?", (sealed_context, conversation_id)
        )

    async def get_reply_context(self, conversation_id: str) -> bytes | None:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT reply_context FROM vault WHERE conversation_id = ?", (conversation_id,)
            )
        )
        return bytes(rows[0]["reply_context"]) if rows and rows[0]["reply_context"] is not None else None

    async def put_vault(self, conversation_id: str, sealed_address: bytes) -> None:
        await self._conn.execute(
            "INSERT INTO vault (conversation_id, address) VALUES (?, ?)", (conversation_id, sealed_address)
        )

    async def get_vault(self, conversation_id: str) -> bytes | None:
        rows = list(
            await self._conn.execute_fetchall("SELECT address FROM vault WHERE conversation_id = ?", (conversation_id,))
        )
        return bytes(rows[0]["address"]) if rows else None

    async def delete_vault(self, conversation_id: str) -> None:
        await self._conn.execute("DELETE FROM vault WHERE conversation_id = ?", (conversation_id,))

    async def claim(self, conversation_id: str, user_id: str) -> bool:
        cursor = await self._conn.execute(
            "UPDATE conversations SET assignee_id = ?, status = 'active'"
            " WHERE id = ? AND assignee_id IS NULL AND status = 'waiting'",
            (user_id, conversation_id),
        )
        return cursor.rowcount == 1

    async def close(self, conversation_id: str, outcome: str, now: datetime) -> bool:
        cursor = await self._conn.execute(
            "UPDATE conversations SET status = 'closed', closed_at = ?, outcome = ?"
            " WHERE id = ? AND status != 'closed'",
            (to_text(now), outcome, conversation_id),
        )
        return cursor.rowcount == 1

    async def raise_priority(self, conversation_id: str, band: int, sealed_why: bytes | None = None) -> bool:
        rows = list(
            await self._conn.execute_fetchall(
                "UPDATE conversations SET priority = MAX(priority, ?), risk_why = COALESCE(?, risk_why)"
                " WHERE id = ? AND priority < ? RETURNING id",
                (band, sealed_why, conversation_id, band),
            )
        )
        return bool(rows)

    async def next_seq(self, conversation_id: str, band: int = 0, sealed_why: bytes | None = None) -> int:
        # SET expressions read the row as it was: the old priority decides whether the reason is replaced.
        rows = list(
            await self._conn.execute_fetchall(
                "UPDATE conversations SET last_seq = last_seq + 1, priority = MAX(priority, ?),"
                " risk_why = CASE WHEN ? > priority AND ? IS NOT NULL THEN ? ELSE risk_why END WHERE id = ?"
                " RETURNING last_seq",
                (band, band, sealed_why, sealed_why, conversation_id),
            )
        )
        return int(rows[0][0])

    async def queue(self, user_id: str, limit: int) -> list[Conversation]:
        waiting = await self._conn.execute_fetchall(
            f"{_CONVERSATION} WHERE c.status = 'waiting' ORDER BY c.priority DESC, c.waiting_since LIMIT ?", (limit,)
        )
        mine = await self._conn.execute_fetchall(
            f"{_CONVERSATION} WHERE c.assignee_id = ? AND c.status = 'active' ORDER BY c.waiting_since", (user_id,)
        )
        return [_conversation(row) for row in [*waiting, *mine]]

    async def next_waiting(self) -> Conversation | None:
        rows = list(
            await self._conn.execute_fetchall(
                f"{_CONVERSATION} WHERE c.status = 'waiting' AND c.assignee_id IS NULL AND c.contact_left_at IS NULL"
                " ORDER BY c.priority DESC, c.waiting_since LIMIT 1"
            )
        )
        return _conversation(rows[0]) if rows else None

    async def unanswered(self, conversation_ids: Sequence[str]) -> dict[str, tuple[int, datetime]]:
        if not conversation_ids:
            return {}
        marks = ", ".join("?" * len(conversation_ids))
        rows = await self._conn.execute_fetchall(
            "SELECT m.conversation_id, COUNT(*), MIN(m.created_at) FROM messages m"  # noqa: S608 - only ? marks
            f" WHERE m.conversation_id IN ({marks}) AND m.direction = 'in' AND m.seq > COALESCE("
            "(SELECT MAX(o.seq) FROM messages o WHERE o.conversation_id = m.conversation_id"
            " AND o.direction = 'out' AND o.author_id IS NOT NULL), 0)"
            " GROUP BY m.conversation_id",
            tuple(conversation_ids),
        )
        return {row[0]: (int(row[1]), from_text(row[2])) for row in rows}

    async def held_by(self, user_id: str) -> list[Conversation]:
        rows = await self._conn.execute_fetchall(
            f"{_CONVERSATION} WHERE c.assignee_id = ? AND c.status = 'active' ORDER BY c.waiting_since", (user_id,)
        )
        return [_conversation(row) for row in rows]

    async def count_active(self, user_id: str) -> int:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT COUNT(*) FROM conversations WHERE assignee_id = ? AND status = 'active'", (user_id,)
            )
        )
        return int(rows[0][0])

    async def assign(self, conversation_id: str, user_id: str) -> bool:
        cursor = await self._conn.execute(
            "UPDATE conversations SET assignee_id = ? WHERE id = ? AND status = 'active'", (user_id, conversation_id)
        )
        return cursor.rowcount == 1

    async def return_to_queue(self, conversation_id: str) -> bool:
        cursor = await self._conn.execute(
            "UPDATE conversations SET assignee_id = NULL, status = 'waiting' WHERE id = ? AND status = 'active'",
            (conversation_id,),
        )
        return cursor.rowcount == 1

    async def route_of(self, conversation_id: str) -> bytes | None:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT pseudonym FROM routes WHERE conversation_id = ?", (conversation_id,)
            )
        )
        return bytes(rows[0][0]) if rows else None

    async def set_record(self, conversation_id: str, record_id: str) -> None:
        await self._conn.execute("UPDATE conversations SET record_id = ? WHERE id = ?", (record_id, conversation_id))

    async def set_classification(self, conversation_id: str, contact_type: str, missing_type: str | None) -> None:
        await self._conn.execute(
            "UPDATE conversations SET contact_type = ?, missing_type = ? WHERE id = ?",
            (contact_type, missing_type, conversation_id),
        )

    async def for_record(self, record_id: str) -> list[str]:
        rows = await self._conn.execute_fetchall(
            "SELECT id FROM conversations WHERE record_id = ? ORDER BY created_at", (record_id,)
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
        return int(rows[0][0]), _time(rows[0][1])

    async def set_contact_left(self, conversation_id: str, reason: str, now: datetime) -> None:
        await self._conn.execute(
            "UPDATE conversations SET contact_left_at = ?, contact_left_reason = ? WHERE id = ?",
            (to_text(now), reason, conversation_id),
        )

    async def reopen(self, conversation_id: str, now: datetime) -> bool:
        cursor = await self._conn.execute(
            "UPDATE conversations SET status = 'waiting', assignee_id = NULL, closed_at = NULL, outcome = NULL,"
            " waiting_since = ? WHERE id = ? AND status = 'closed' AND purged_at IS NULL",
            (to_text(now), conversation_id),
        )
        return cursor.rowcount == 1


class SqliteMessages:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    _SELECT = "SELECT m.*, u.username AS author_name FROM messages m LEFT JOIN users u ON u.id = m.author_id"

    @staticmethod
    def _message(row: sqlite3.Row) -> StoredMessage:
        return StoredMessage(
            id=row["id"],
            conversation_id=row["conversation_id"],
            seq=row["seq"],
            direction=row["direction"],
            author_id=row["author_id"],
            author_name=row["author_name"],
            body=bytes(row["body"]),
            created_at=from_text(row["created_at"]),
            delivery=row["delivery"],
            delivery_error=row["delivery_error"],
            meaning=None if row["meaning"] is None else bytes(row["meaning"]),
        )

    async def insert(self, message: StoredMessage, sealed_provider_id: bytes | None = None) -> None:
        await self._conn.execute(
            "INSERT INTO messages (id, conversation_id, seq, direction, author_id, body, created_at, delivery,"
            " delivery_error, provider_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                message.id,
                message.conversation_id,
                message.seq,
                message.direction,
                message.author_id,
                message.body,
                to_text(message.created_at),
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
        # The writer is this process's alone: two statements cost no more than one.
        seq = await SqliteConversations(self._conn).next_seq(message.conversation_id, band, sealed_why)
        await self.insert(replace(message, seq=seq), sealed_provider_id)
        return seq

    async def get(self, message_id: str) -> StoredMessage | None:
        rows = list(await self._conn.execute_fetchall(f"{self._SELECT} WHERE m.id = ?", (message_id,)))
        return self._message(rows[0]) if rows else None

    async def for_conversation(self, conversation_id: str) -> list[StoredMessage]:
        rows = await self._conn.execute_fetchall(
            f"{self._SELECT} WHERE m.conversation_id = ? ORDER BY m.seq", (conversation_id,)
        )
        return [self._message(row) for row in rows]

    async def after(self, conversation_id: str, after_seq: int, limit: int) -> list[StoredMessage]:
        rows = await self._conn.execute_fetchall(
            f"{self._SELECT} WHERE m.conversation_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?",
            (conversation_id, after_seq, limit),
        )
        return [self._message(row) for row in rows]

    async def set_delivery(self, message_id: str, delivery: str, error: str | None) -> None:
        await self._conn.execute(
            "UPDATE messages SET delivery = ?, delivery_error = COALESCE(?, delivery_error) WHERE id = ?",
            (delivery, error, message_id),
        )

    async def set_provider_id(self, message_id: str, sealed_provider_id: bytes) -> None:
        await self._conn.execute("UPDATE messages SET provider_id = ? WHERE id = ?", (sealed_provider_id, message_id))

    async def set_meaning(self, message_id: str, sealed_meaning: bytes) -> None:
        await self._conn.execute("UPDATE messages SET meaning = ? WHERE id = ?", (sealed_meaning, message_id))


class SqliteInbox:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def remember(self, key: bytes, now: datetime) -> bool:
        cursor = await self._conn.execute(
            "INSERT OR IGNORE INTO inbound_seen (key, seen_at) VALUES (?, ?)", (key, to_text(now))
        )
        return cursor.rowcount == 1

    async def seen(self, key: bytes) -> bool:
        rows = list(await self._conn.execute_fetchall("SELECT 1 FROM inbound_seen WHERE key = ?", (key,)))
        return bool(rows)


class SqliteIntake:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(self, intake_id: str, accepted_at: datetime, sealed: bytes) -> None:
        await self._conn.execute(
            "INSERT INTO intake (id, accepted_at, sealed) VALUES (?, ?, ?)", (intake_id, to_text(accepted_at), sealed)
        )

    async def waiting(self, limit: int, max_attempts: int, accepted_before: datetime | None = None) -> list[Accepted]:
        before = to_text(accepted_before) if accepted_before is not None else None
        rows = await self._conn.execute_fetchall(
            "SELECT id, accepted_at, sealed, attempts FROM intake WHERE attempts < ?"
            " AND (? IS NULL OR accepted_at < ?) ORDER BY seq LIMIT ?",
            (max_attempts, before, before, limit),
        )
        return [Accepted(r["id"], from_text(r["accepted_at"]), bytes(r["sealed"]), r["attempts"]) for r in rows]

    async def remove(self, intake_id: str) -> bool:
        cursor = await self._conn.execute("DELETE FROM intake WHERE id = ?", (intake_id,))
        return cursor.rowcount == 1

    async def failed(self, intake_id: str) -> None:
        await self._conn.execute("UPDATE intake SET attempts = attempts + 1 WHERE id = ?", (intake_id,))

    async def sealed(self) -> list[bytes]:
        return [bytes(r["sealed"]) for r in await self._conn.execute_fetchall("SELECT sealed FROM intake")]


class SqliteOutbox:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @staticmethod
    def _item(row: sqlite3.Row) -> OutboxItem:
        return OutboxItem(
            id=row["id"],
            message_id=row["message_id"],
            conversation_id=row["conversation_id"],
            channel=row["channel"],
            state=row["state"],
            attempts=row["attempts"],
            next_attempt_at=from_text(row["next_attempt_at"]),
        )

    async def add(self, item: OutboxItem) -> None:
        await self._conn.execute(
            "INSERT INTO outbox (id, message_id, conversation_id, channel, state, attempts, next_attempt_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                item.id,
                item.message_id,
                item.conversation_id,
                item.channel,
                item.state,
                item.attempts,
                to_text(item.next_attempt_at),
            ),
        )

    async def get(self, item_id: str) -> OutboxItem | None:
        rows = list(await self._conn.execute_fetchall("SELECT * FROM outbox WHERE id = ?", (item_id,)))
        return self._item(rows[0]) if rows else None

    async def claim(self, item_id: str, now: datetime) -> OutboxItem | None:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT * FROM outbox WHERE id = ? AND state IN ('pending', 'sending') AND next_attempt_at <= ?",
                (item_id, to_text(now)),
            )
        )
        return self._item(rows[0]) if rows else None

    async def due(self, now: datetime, limit: int) -> list[OutboxItem]:
        rows = await self._conn.execute_fetchall(
            "SELECT * FROM outbox WHERE state IN ('pending', 'sending') AND next_attempt_at <= ?"
            " ORDER BY next_attempt_at LIMIT ?",
            (to_text(now), limit),
        )
        return [self._item(row) for row in rows]

    async def update(self, item_id: str, state: str, attempts: int, next_attempt_at: datetime) -> None:
        await self._conn.execute(
            "UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ? WHERE id = ?",
            (state, attempts, to_text(next_attempt_at), item_id),
        )

    async def sending(self, limit: int, due_by: datetime | None = None) -> list[OutboxItem]:
        rows = await self._conn.execute_fetchall(
            "SELECT * FROM outbox WHERE state = 'sending' AND (? IS NULL OR next_attempt_at <= ?)"
            " ORDER BY next_attempt_at LIMIT ?",
            (*(2 * [to_text(due_by) if due_by is not None else None]), limit),
        )
        return [self._item(row) for row in rows]

    async def pending_for(self, conversation_id: str) -> int:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT COUNT(*) FROM outbox WHERE conversation_id = ? AND state IN ('pending', 'sending')",
                (conversation_id,),
            )
        )
        return int(rows[0][0])


class SqliteAudit:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def append(self, entry: AuditEntry) -> None:
        rows = list(await self._conn.execute_fetchall("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1"))
        previous = bytes(rows[0][0]) if rows else GENESIS
        await self._conn.execute(
            "INSERT INTO audit (at, actor, action, object_id, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                to_text(entry.at),
                entry.actor,
                entry.action,
                entry.object_id,
                json.dumps(entry.detail, sort_keys=True),
                previous,
                link(previous, entry),
            ),
        )

    async def rows(self) -> list[StoredAuditRow]:
        """Every audit row in order, for verification."""
        rows = await self._conn.execute_fetchall("SELECT * FROM audit ORDER BY seq")
        return [
            StoredAuditRow(
                seq=row["seq"],
                entry=AuditEntry(
                    from_text(row["at"]), row["actor"], row["action"], row["object_id"], json.loads(row["detail"])
                ),
                prev_hash=bytes(row["prev_hash"]),
                hash=bytes(row["hash"]),
            )
            for row in rows
        ]


class SqliteEvents:
    """Implements ``core.ports.EventLog``: one process owns a SQLite file, so its in-process bus is enough."""

    async def record(self, events: Sequence[Event]) -> None:
        """Nothing to write: the events are published within this process after the commit."""


class SqliteTx:
    """All repositories over one connection: a ``core.ports.Tx``."""

    def __init__(self, conn: Connection) -> None:
        self.conversations = SqliteConversations(conn)
        self.messages = SqliteMessages(conn)
        self.inbox = SqliteInbox(conn)
        self.intake = SqliteIntake(conn)
        self.outbox = SqliteOutbox(conn)
        self.users = SqliteUsers(conn)
        self.sessions = SqliteSessions(conn)
        self.signin_limits = SqliteSignInLimits(conn)
        self.audit = SqliteAudit(conn)
        self.notes = SqliteNotes(conn)
        self.records = SqliteRecords(conn)
        self.blocks = SqliteBlocks(conn)
        self.canned = SqliteCanned(conn)
        self.runtime_settings = SqliteRuntimeSettings(conn)
        self.escalations = SqliteEscalations(conn)
        self.disclosures = SqliteDisclosures(conn)
        self.oversight = SqliteOversight(conn)
        self.staff_notifications = SqliteStaffNotifications(conn)
        self.retention = SqliteRetention(conn)
        self.keys = SqliteKeys(conn)
        self.provider_deletions = SqliteProviderDeletions(conn)
        self.events = SqliteEvents()
        self.reports = SqliteReports(conn)
