"""The SQL for console accounts: users and their roles, sessions, and the sign-in attempt counters."""

from __future__ import annotations

from datetime import datetime

from helpline.clock import to_text
from helpline.core.models import Role, Session, SignInLimit, User
from helpline.store.rows import USER_COLUMNS, roles_text, session_from, signin_limit_from, user_from
from helpline.store.sqlite.connection import Connection


class SqliteUsers:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def _select(self, where: str, params: tuple[object, ...]) -> list[User]:
        rows = await self._conn.execute_fetchall(f"SELECT {USER_COLUMNS} FROM users u {where}", params)  # noqa: S608 - fixed clauses
        return [user_from(row) for row in rows]

    async def get(self, user_id: str) -> User | None:
        found = await self._select("WHERE u.id = ?", (user_id,))
        return found[0] if found else None

    async def lock(self, user_id: str) -> None:
        """Nothing to do: the unit holds the database's write lock (BEGIN IMMEDIATE) already."""

    async def by_name(self, username: str) -> User | None:
        found = await self._select("WHERE u.username = ?", (username,))
        return found[0] if found else None

    async def insert(self, user: User, now: datetime) -> bool:
        cursor = await self._conn.execute(
            "INSERT INTO users (id, username, roles, password_hash, disabled, created_at, created_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING",
            (
                user.id,
                user.username,
                " ".join(user.role_names),
                user.password_hash,
                int(user.disabled),
                to_text(now),
                user.created_by,
            ),
        )
        return cursor.rowcount == 1

    async def set_roles(self, user_id: str, roles: frozenset[Role]) -> None:
        names = roles_text(roles)
        await self._conn.execute("UPDATE users SET roles = ? WHERE id = ?", (names, user_id))

    async def all(self) -> list[User]:
        return await self._select("ORDER BY u.username", ())

    async def set_availability(self, user_id: str, availability: str) -> None:
        await self._conn.execute("UPDATE users SET availability = ? WHERE id = ?", (availability, user_id))

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await self._conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))

    async def set_disabled(self, user_id: str, disabled: bool) -> None:
        await self._conn.execute(
            "UPDATE users SET disabled = ?, availability = CASE WHEN ? THEN 'offline' ELSE availability END"
            " WHERE id = ?",
            (int(disabled), int(disabled), user_id),
        )

    async def totp(self, user_id: str) -> tuple[bytes | None, bytes | None, int | None]:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT totp_secret, totp_pending, totp_last_step FROM users WHERE id = ?", (user_id,)
            )
        )
        if not rows:
            return None, None, None
        secret, pending, step = rows[0]
        return (bytes(secret) if secret else None, bytes(pending) if pending else None, step)

    async def set_totp_pending(self, user_id: str, sealed: bytes | None) -> None:
        await self._conn.execute("UPDATE users SET totp_pending = ? WHERE id = ?", (sealed, user_id))

    async def confirm_totp(self, user_id: str, step: int) -> bool:
        cursor = await self._conn.execute(
            "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = ?"
            " WHERE id = ? AND totp_pending IS NOT NULL",
            (step, user_id),
        )
        return cursor.rowcount == 1

    async def use_totp_step(self, user_id: str, step: int) -> bool:
        cursor = await self._conn.execute(
            "UPDATE users SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)",
            (step, user_id, step),
        )
        return cursor.rowcount == 1

    async def reset_totp(self, user_id: str) -> None:
        await self._conn.execute(
            "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL WHERE id = ?",
            (user_id,),
        )


class SqliteSessions:
    def __init__(self, conn: Connection) -> None:
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
                "SELECT s.token_hash, s.csrf_token, s.created_at AS s_created, s.last_seen_at,"  # noqa: S608 - fixed columns
                f" {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
                (token_hash,),
            )
        )
        if not rows:
            return None
        return session_from(rows[0])

    async def touch(self, token_hash: bytes, now: datetime) -> None:
        await self._conn.execute(
            "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", (to_text(now), token_hash)
        )

    async def delete_for_user(self, user_id: str, keep: bytes | None) -> None:
        await self._conn.execute("DELETE FROM sessions WHERE user_id = ? AND token_hash IS NOT ?", (user_id, keep))

    async def delete(self, token_hash: bytes) -> None:
        await self._conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))


class SqliteSignInLimits:
    """Sign-in attempt counters; each change is one statement, so concurrent sign-ins never share a count."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def count(self, key: bytes, now: datetime, since: datetime, limit: int) -> int | None:
        # ?1 key, ?2 now, ?3 since, ?4 limit. A window that began at or before `since`, or a lock that has
        # ended, starts the count again at 1; otherwise it goes up by one only below the limit, unlocked, and
        # not before its retry time. One statement: two concurrent attempts never read the same count.
        fresh = (
            "((signin_limits.locked_until IS NOT NULL AND signin_limits.locked_until <= ?2)"
            " OR (signin_limits.locked_until IS NULL AND signin_limits.window_start <= ?3))"
        )
        rows = list(
            await self._conn.execute_fetchall(
                "INSERT INTO signin_limits (key, attempts, window_start) VALUES (?1, 1, ?2)"  # noqa: S608 - fixed text
                " ON CONFLICT (key) DO UPDATE SET"
                f" attempts = CASE WHEN {fresh} THEN 1 ELSE signin_limits.attempts + 1 END,"
                f" window_start = CASE WHEN {fresh} THEN ?2 ELSE signin_limits.window_start END,"
                f" retry_at = CASE WHEN {fresh} THEN NULL ELSE signin_limits.retry_at END,"
                " locked_until = NULL"
                f" WHERE {fresh} OR (signin_limits.locked_until IS NULL AND signin_limits.attempts < ?4"
                " AND (signin_limits.retry_at IS NULL OR signin_limits.retry_at <= ?2))"
                " RETURNING attempts",
                (key, to_text(now), to_text(since), limit),
            )
        )
        return int(rows[0][0]) if rows else None

    async def take_back(self, key: bytes) -> None:
        await self._conn.execute(
            "UPDATE signin_limits SET attempts = attempts - 1 WHERE key = ? AND attempts > 0", (key,)
        )

    async def clear_unless_locked(self, key: bytes, now: datetime) -> bool:
        await self._conn.execute(
            "DELETE FROM signin_limits WHERE key = ? AND (locked_until IS NULL OR locked_until <= ?)",
            (key, to_text(now)),
        )
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT 1 FROM signin_limits WHERE key = ? AND locked_until > ?", (key, to_text(now))
            )
        )
        return not rows

    async def lock(self, key: bytes, until: datetime, limit: int) -> bool:
        cursor = await self._conn.execute(
            "UPDATE signin_limits SET locked_until = ? WHERE key = ? AND locked_until IS NULL AND attempts >= ?",
            (to_text(until), key, limit),
        )
        return cursor.rowcount == 1

    async def delay(self, key: bytes, retry_at: datetime) -> None:
        await self._conn.execute(
            "UPDATE signin_limits SET retry_at = ? WHERE key = ? AND (retry_at IS NULL OR retry_at < ?)",
            (to_text(retry_at), key, to_text(retry_at)),
        )

    async def get(self, key: bytes) -> SignInLimit | None:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT attempts, window_start, retry_at, locked_until FROM signin_limits WHERE key = ?", (key,)
            )
        )
        if not rows:
            return None
        return signin_limit_from(rows[0])

    async def locked(self, keys: list[bytes], now: datetime) -> set[bytes]:
        if not keys:
            return set()
        marks = ", ".join("?" for _ in keys)
        rows = await self._conn.execute_fetchall(
            f"SELECT key FROM signin_limits WHERE key IN ({marks}) AND locked_until > ?",  # noqa: S608 - placeholders only
            (*keys, to_text(now)),
        )
        return {bytes(row[0]) for row in rows}

    async def clear(self, key: bytes) -> None:
        await self._conn.execute("DELETE FROM signin_limits WHERE key = ?", (key,))

    async def forget(self, before: datetime, now: datetime) -> int:
        cursor = await self._conn.execute(
            "DELETE FROM signin_limits WHERE window_start <= ? AND (locked_until IS NULL OR locked_until <= ?)"
            " AND (retry_at IS NULL OR retry_at <= ?)",
            (to_text(before), to_text(now), to_text(now)),
        )
        return cursor.rowcount
