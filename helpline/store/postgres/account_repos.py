"""The PostgreSQL SQL for console accounts: users and their roles, sessions, and the sign-in attempt counters."""

from __future__ import annotations

from datetime import datetime

from helpline.core.models import Role, Session, SignInLimit, User
from helpline.store.postgres.connection import PgConnection as Connection
from helpline.store.rows import USER_COLUMNS, roles_text, session_from, signin_limit_from, user_from


class PgUsers:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def _select(self, where: str, params: tuple[object, ...]) -> list[User]:
        rows = await self._conn.execute_fetchall(f"SELECT {USER_COLUMNS} FROM users u {where}", params)  # noqa: S608 - fixed clauses
        return [user_from(row) for row in rows]

    async def get(self, user_id: str) -> User | None:
        found = await self._select("WHERE u.id = $1", (user_id,))
        return found[0] if found else None

    async def lock(self, user_id: str) -> None:
        lock = self._conn.lock("FOR NO KEY UPDATE")
        await self._conn.execute(f"SELECT 1 FROM users WHERE id = $1{lock}", (user_id,))  # noqa: S608 - a fixed clause

    async def by_name(self, username: str) -> User | None:
        found = await self._select("WHERE u.username = $1", (username,))
        return found[0] if found else None

    async def insert(self, user: User, now: datetime) -> bool:
        cursor = await self._conn.execute(
            "INSERT INTO users (id, username, roles, password_hash, disabled, created_at, created_by)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (username) DO NOTHING",
            (
                user.id,
                user.username,
                " ".join(user.role_names),
                user.password_hash,
                int(user.disabled),
                now,
                user.created_by,
            ),
        )
        return cursor.rowcount == 1

    async def set_roles(self, user_id: str, roles: frozenset[Role]) -> None:
        names = roles_text(roles)
        await self._conn.execute("UPDATE users SET roles = $1 WHERE id = $2", (names, user_id))

    async def all(self) -> list[User]:
        return await self._select("ORDER BY u.username", ())

    async def set_availability(self, user_id: str, availability: str) -> None:
        await self._conn.execute("UPDATE users SET availability = $1 WHERE id = $2", (availability, user_id))

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await self._conn.execute("UPDATE users SET password_hash = $1 WHERE id = $2", (password_hash, user_id))

    async def set_disabled(self, user_id: str, disabled: bool) -> None:
        await self._conn.execute(
            "UPDATE users SET disabled = $1, availability = CASE WHEN $2::boolean THEN 'offline' ELSE availability END"
            " WHERE id = $3",
            (int(disabled), disabled, user_id),
        )

    async def totp(self, user_id: str) -> tuple[bytes | None, bytes | None, int | None]:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT totp_secret, totp_pending, totp_last_step FROM users WHERE id = $1", (user_id,)
            )
        )
        if not rows:
            return None, None, None
        secret, pending, step = rows[0]
        return (bytes(secret) if secret else None, bytes(pending) if pending else None, step)

    async def set_totp_pending(self, user_id: str, sealed: bytes | None) -> None:
        await self._conn.execute("UPDATE users SET totp_pending = $1 WHERE id = $2", (sealed, user_id))

    async def confirm_totp(self, user_id: str, step: int) -> bool:
        cursor = await self._conn.execute(
            "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $1"
            " WHERE id = $2 AND totp_pending IS NOT NULL",
            (step, user_id),
        )
        return cursor.rowcount == 1

    async def use_totp_step(self, user_id: str, step: int) -> bool:
        cursor = await self._conn.execute(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $3)",
            (step, user_id, step),
        )
        return cursor.rowcount == 1

    async def reset_totp(self, user_id: str) -> None:
        await self._conn.execute(
            "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL WHERE id = $1",
            (user_id,),
        )


class PgSessions:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def insert(self, session: Session) -> None:
        await self._conn.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at)"
            " VALUES ($1, $2, $3, $4, $5)",
            (
                session.token_hash,
                session.user.id,
                session.csrf_token,
                session.created_at,
                session.last_seen_at,
            ),
        )

    async def get(self, token_hash: bytes) -> Session | None:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT s.token_hash, s.csrf_token, s.created_at AS s_created, s.last_seen_at,"  # noqa: S608 - fixed columns
                f" {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
                (token_hash,),
            )
        )
        if not rows:
            return None
        return session_from(rows[0])

    async def touch(self, token_hash: bytes, now: datetime) -> None:
        await self._conn.execute("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2", (now, token_hash))

    async def delete_for_user(self, user_id: str, keep: bytes | None) -> None:
        await self._conn.execute(
            "DELETE FROM sessions WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2::bytea", (user_id, keep)
        )

    async def delete(self, token_hash: bytes) -> None:
        await self._conn.execute("DELETE FROM sessions WHERE token_hash = $1", (token_hash,))


class PgSignInLimits:
    """Sign-in attempt counters; each change is one statement, so concurrent sign-ins never share a count."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def count(self, key: bytes, now: datetime, since: datetime, limit: int) -> int | None:
        # $1 key, $2 now, $3 since, $4 limit. A window that began at or before `since`, or a lock that has
        # ended, starts the count again at 1; otherwise it goes up by one only below the limit, unlocked, and
        # not before its retry time. One statement: two concurrent attempts never read the same count.
        fresh = (
            "((signin_limits.locked_until IS NOT NULL AND signin_limits.locked_until <= $2)"
            " OR (signin_limits.locked_until IS NULL AND signin_limits.window_start <= $3))"
        )
        rows = list(
            await self._conn.execute_fetchall(
                "INSERT INTO signin_limits (key, attempts, window_start) VALUES ($1, 1, $2)"  # noqa: S608 - fixed text
                " ON CONFLICT (key) DO UPDATE SET"
                f" attempts = CASE WHEN {fresh} THEN 1 ELSE signin_limits.attempts + 1 END,"
                f" window_start = CASE WHEN {fresh} THEN $2 ELSE signin_limits.window_start END,"
                f" retry_at = CASE WHEN {fresh} THEN NULL ELSE signin_limits.retry_at END,"
                " locked_until = NULL"
                f" WHERE {fresh} OR (signin_limits.locked_until IS NULL AND signin_limits.attempts < $4"
                " AND (signin_limits.retry_at IS NULL OR signin_limits.retry_at <= $2))"
                " RETURNING attempts",
                (key, now, since, limit),
            )
        )
        return int(rows[0][0]) if rows else None

    async def take_back(self, key: bytes) -> None:
        await self._conn.execute(
            "UPDATE signin_limits SET attempts = attempts - 1 WHERE key = $1 AND attempts > 0", (key,)
        )

    async def clear_unless_locked(self, key: bytes, now: datetime) -> bool:
        await self._conn.execute(
            "DELETE FROM signin_limits WHERE key = $1 AND (locked_until IS NULL OR locked_until <= $2)",
            (key, now),
        )
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT 1 FROM signin_limits WHERE key = $1 AND locked_until > $2", (key, now)
            )
        )
        return not rows

    async def lock(self, key: bytes, until: datetime, limit: int) -> bool:
        cursor = await self._conn.execute(
            "UPDATE signin_limits SET locked_until = $1 WHERE key = $2 AND locked_until IS NULL AND attempts >= $3",
            (until, key, limit),
        )
        return cursor.rowcount == 1

    async def delay(self, key: bytes, retry_at: datetime) -> None:
        await self._conn.execute(
            "UPDATE signin_limits SET retry_at = $1 WHERE key = $2 AND (retry_at IS NULL OR retry_at < $3)",
            (retry_at, key, retry_at),
        )

    async def get(self, key: bytes) -> SignInLimit | None:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT attempts, window_start, retry_at, locked_until FROM signin_limits WHERE key = $1", (key,)
            )
        )
        if not rows:
            return None
        return signin_limit_from(rows[0])

    async def locked(self, keys: list[bytes], now: datetime) -> set[bytes]:
        if not keys:
            return set()
        rows = await self._conn.execute_fetchall(
            "SELECT key FROM signin_limits WHERE key = ANY($1::bytea[]) AND locked_until > $2", (list(keys), now)
        )
        return {bytes(row[0]) for row in rows}

    async def clear(self, key: bytes) -> None:
        await self._conn.execute("DELETE FROM signin_limits WHERE key = $1", (key,))

    async def forget(self, before: datetime, now: datetime) -> int:
        cursor = await self._conn.execute(
            "DELETE FROM signin_limits WHERE window_start <= $1 AND (locked_until IS NULL OR locked_until <= $2)"
            " AND (retry_at IS NULL OR retry_at <= $3)",
            (before, now, now),
        )
        return cursor.rowcount
