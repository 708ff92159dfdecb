"""The SQL behind ``core.ports.Tx``: one small repository class per table group."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

import aiosqlite

from helpline.audit.chain import GENESIS, StoredAuditRow, link
from helpline.audit.events import AuditEntry
from helpline.clock import from_text, to_text
from helpline.core.models import (
    Conversation,
    KeyRef,
    OutboxItem,
    Session,
    StoredMessage,
    User,
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
    )


class SqliteConversations:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def get(self, conversation_id: str) -> Conversation | None:
        rows = list(await self._conn.execute_fetchall(f"{_CONVERSATION} WHERE c.id = ?", (conversation_id,)))
        return _conversation(rows[0]) if rows else None

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

    async def add_route(self, pseudonym: bytes, conversation_id: str) -> None:
        await self._conn.execute(
            "INSERT INTO routes (pseudonym, conversation_id) VALUES (?, ?)", (pseudonym, conversation_id)
        )

    async def remove_route(self, conversation_id: str) -> None:
        await self._conn.execute("DELETE FROM routes WHERE conversation_id = ?", (conversation_id,))

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

    async def next_seq(self, conversation_id: str) -> int:
        rows = list(
            await self._conn.execute_fetchall(
                "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq", (conversation_id,)
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


class SqliteMessages:
    def __init__(self, conn: aiosqlite.Connection) -> None:
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
        )

    async def insert(self, message: StoredMessage) -> None:
        await self._conn.execute(
            "INSERT INTO messages (id, conversation_id, seq, direction, author_id, body, created_at, delivery,"
            " delivery_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            ),
        )

    async def get(self, message_id: str) -> StoredMessage | None:
        rows = list(await self._conn.execute_fetchall(f"{self._SELECT} WHERE m.id = ?", (message_id,)))
        return self._message(rows[0]) if rows else None

    async def for_conversation(self, conversation_id: str) -> list[StoredMessage]:
        rows = await self._conn.execute_fetchall(
            f"{self._SELECT} WHERE m.conversation_id = ? ORDER BY m.seq", (conversation_id,)
        )
        return [self._message(row) for row in rows]

    async def set_delivery(self, message_id: str, delivery: str, error: str | None) -> None:
        await self._conn.execute(
            "UPDATE messages SET delivery = ?, delivery_error = COALESCE(?, delivery_error) WHERE id = ?",
            (delivery, error, message_id),
        )

    async def set_provider_id(self, message_id: str, sealed_provider_id: bytes) -> None:
        await self._conn.execute("UPDATE messages SET provider_id = ? WHERE id = ?", (sealed_provider_id, message_id))


class SqliteInbox:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def remember(self, key: bytes, now: datetime) -> bool:
        cursor = await self._conn.execute(
            "INSERT OR IGNORE INTO inbound_seen (key, seen_at) VALUES (?, ?)", (key, to_text(now))
        )
        return cursor.rowcount == 1


class SqliteOutbox:
    def __init__(self, conn: aiosqlite.Connection) -> None:
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

    async def pending_for(self, conversation_id: str) -> int:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT COUNT(*) FROM outbox WHERE conversation_id = ? AND state IN ('pending', 'sending')",
                (conversation_id,),
            )
        )
        return int(rows[0][0])


def _user(row: sqlite3.Row, prefix: str = "") -> User:
    return User(
        id=row[f"{prefix}id"],
        username=row["username"],
        role=row["role"],
        disabled=bool(row["disabled"]),
        password_hash=row["password_hash"],
    )


class SqliteUsers:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def get(self, user_id: str) -> User | None:
        rows = list(await self._conn.execute_fetchall("SELECT * FROM users WHERE id = ?", (user_id,)))
        return _user(rows[0]) if rows else None

    async def by_name(self, username: str) -> User | None:
        rows = list(await self._conn.execute_fetchall("SELECT * FROM users WHERE username = ?", (username,)))
        return _user(rows[0]) if rows else None

    async def insert(self, user: User, now: datetime) -> bool:
        cursor = await self._conn.execute(
            "INSERT INTO users (id, username, role, password_hash, disabled, created_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (username) DO NOTHING",
            (user.id, user.username, user.role, user.password_hash, int(user.disabled), to_text(now)),
        )
        return cursor.rowcount == 1


class SqliteSessions:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def insert(self, session: Session) -> None:
        await self._conn.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
            (
                session.token_hash,
                session.user.id,
                session.csrf_token,
                to_text(session.created_at),
                to_text(session.last_seen_at),
            ),
        )

    async def get(self, token_hash: bytes) -> Session | None:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT s.token_hash, s.csrf_token, s.created_at AS s_created, s.last_seen_at, u.id AS u_id,"
                " u.username, u.role, u.disabled, u.password_hash"
                " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
                (token_hash,),
            )
        )
        if not rows:
            return None
        row = rows[0]
        return Session(
            token_hash=bytes(row["token_hash"]),
            user=_user(row, "u_"),
            csrf_token=row["csrf_token"],
            created_at=from_text(row["s_created"]),
            last_seen_at=from_text(row["last_seen_at"]),
        )

    async def touch(self, token_hash: bytes, now: datetime) -> None:
        await self._conn.execute(
            "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", (to_text(now), token_hash)
        )

    async def delete(self, token_hash: bytes) -> None:
        await self._conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))


class SqliteAudit:
    def __init__(self, conn: aiosqlite.Connection) -> None:
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


class SqliteTx:
    """All repositories over one connection: a ``core.ports.Tx``."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conversations = SqliteConversations(conn)
        self.messages = SqliteMessages(conn)
        self.inbox = SqliteInbox(conn)
        self.outbox = SqliteOutbox(conn)
        self.users = SqliteUsers(conn)
        self.sessions = SqliteSessions(conn)
        self.audit = SqliteAudit(conn)
