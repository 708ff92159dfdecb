"""The PostgreSQL SQL behind safeguarding: escalations, disclosures, whispers and joins, staff notifications."""

from __future__ import annotations

from datetime import datetime

from helpline.core.models import Disclosure, Escalation, StaffNotification, StoredNote
from helpline.store.names import DISCLOSURES, URGENCY
from helpline.store.postgres.connection import PgConnection as Connection
from helpline.store.rows import disclosure_from, escalation_from, note_from, notification_from


class PgEscalations:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def insert(self, escalation: Escalation) -> None:
        e = escalation
        await self._conn.execute(
            "INSERT INTO escalations (id, conversation_id, category, level, note, state, raised_by, raised_at,"
            " next_alert_at, alerts, oncall_notified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            (
                e.id,
                e.conversation_id,
                e.category,
                e.level,
                e.note,
                e.state,
                e.raised_by,
                e.raised_at,
                e.next_alert_at,
                e.alerts,
                e.oncall_notified_at,
            ),
        )

    async def get(self, escalation_id: str) -> Escalation | None:
        rows = list(await self._conn.execute_fetchall("SELECT * FROM escalations WHERE id = $1", (escalation_id,)))
        return escalation_from(rows[0]) if rows else None

    async def for_conversation(self, conversation_id: str) -> list[Escalation]:
        rows = await self._conn.execute_fetchall(
            "SELECT * FROM escalations WHERE conversation_id = $1 ORDER BY raised_at", (conversation_id,)
        )
        return [escalation_from(row) for row in rows]

    async def open(self) -> list[Escalation]:
        query = f"SELECT * FROM escalations WHERE state != 'closed' ORDER BY {URGENCY}"  # noqa: S608 - constant
        rows = await self._conn.execute_fetchall(query)
        return [escalation_from(row) for row in rows]

    async def closed_since(self, since: datetime, limit: int) -> list[Escalation]:
        rows = await self._conn.execute_fetchall(
            "SELECT * FROM escalations WHERE state = 'closed' AND closed_at >= $1 ORDER BY closed_at DESC LIMIT $2",
            (since, limit),
        )
        return [escalation_from(row) for row in rows]

    async def acknowledge(self, escalation_id: str, user_id: str, now: datetime) -> bool:
        cursor = await self._conn.execute(
            "UPDATE escalations SET state = 'acknowledged', acknowledged_by = $1, acknowledged_at = $2,"
            " next_alert_at = NULL WHERE id = $3 AND state = 'raised'",
            (user_id, now, escalation_id),
        )
        return cursor.rowcount == 1

    async def decide(self, escalation_id: str, user_id: str, decision: str, sealed_note: bytes, now: datetime) -> bool:
        cursor = await self._conn.execute(
            "UPDATE escalations SET state = 'decided', decision = $1, decision_note = $2, decided_by = $3,"
            " decided_at = $4 WHERE id = $5 AND state = 'acknowledged'",
            (decision, sealed_note, user_id, now, escalation_id),
        )
        return cursor.rowcount == 1

    async def close(self, escalation_id: str, user_id: str, now: datetime) -> bool:
        cursor = await self._conn.execute(
            "UPDATE escalations SET state = 'closed', closed_by = $1, closed_at = $2"
            " WHERE id = $3 AND state = 'decided'",
            (user_id, now, escalation_id),
        )
        return cursor.rowcount == 1

    async def due_alerts(self, now: datetime) -> list[Escalation]:
        # In a write, an escalation another worker is re-alerting right now is passed over: one re-alert each.
        lock = self._conn.lock("FOR NO KEY UPDATE SKIP LOCKED")
        rows = await self._conn.execute_fetchall(
            f"SELECT * FROM escalations WHERE state = 'raised' AND next_alert_at <= $1 ORDER BY {URGENCY}{lock}",  # noqa: S608 - constant clauses
            (now,),
        )
        return [escalation_from(row) for row in rows]

    async def alerted(self, escalation_id: str, next_alert_at: datetime, oncall_notified: datetime | None) -> None:
        await self._conn.execute(
            "UPDATE escalations SET alerts = alerts + 1, next_alert_at = $1,"
            " oncall_notified_at = COALESCE(oncall_notified_at, $2) WHERE id = $3",
            (next_alert_at, oncall_notified, escalation_id),
        )


class PgDisclosures:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def insert(self, disclosure: Disclosure) -> None:
        d = disclosure
        await self._conn.execute(
            "INSERT INTO disclosures (id, conversation_id, escalation_id, requested_by, requested_at, reason, state,"
            " decided_by, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            (
                d.id,
                d.conversation_id,
                d.escalation_id,
                d.requested_by,
                d.requested_at,
                d.reason,
                d.state,
                d.decided_by,
                d.decided_at,
            ),
        )

    async def get(self, disclosure_id: str) -> Disclosure | None:
        rows = list(await self._conn.execute_fetchall(f"{DISCLOSURES} WHERE d.id = $1", (disclosure_id,)))
        return disclosure_from(rows[0]) if rows else None

    async def pending(self) -> list[Disclosure]:
        rows = await self._conn.execute_fetchall(
            f"{DISCLOSURES} WHERE d.state IN ('requested', 'approved') ORDER BY d.requested_at"
        )
        return [disclosure_from(row) for row in rows]

    async def set_state(
        self, disclosure_id: str, from_state: str, to_state: str, user_id: str | None, now: datetime
    ) -> bool:
        if to_state == "shown":
            cursor = await self._conn.execute(
                "UPDATE disclosures SET state = 'shown', shown_at = $1 WHERE id = $2 AND state = $3",
                (now, disclosure_id, from_state),
            )
        else:
            cursor = await self._conn.execute(
                "UPDATE disclosures SET state = $1, decided_by = $2, decided_at = $3 WHERE id = $4 AND state = $5",
                (to_state, user_id, now, disclosure_id, from_state),
            )
        return cursor.rowcount == 1


class PgOversight:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add_whisper(
        self, whisper_id: str, conversation_id: str, author_id: str, sealed: bytes, now: datetime
    ) -> None:
        await self._conn.execute(
            "INSERT INTO whispers (id, conversation_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5)",
            (whisper_id, conversation_id, author_id, sealed, now),
        )

    async def whispers(self, conversation_id: str) -> list[StoredNote]:
        rows = await self._conn.execute_fetchall(
            "SELECT w.*, u.username FROM whispers w JOIN users u ON u.id = w.author_id"
            " WHERE w.conversation_id = $1 ORDER BY w.created_at, w.pos",
            (conversation_id,),
        )
        return [note_from(row, "whisper") for row in rows]

    async def join(self, conversation_id: str, user_id: str, now: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO participants (conversation_id, user_id, joined_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            (conversation_id, user_id, now),
        )

    async def joined(self, conversation_id: str, user_id: str) -> bool:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT 1 FROM participants WHERE conversation_id = $1 AND user_id = $2", (conversation_id, user_id)
            )
        )
        return bool(rows)

    async def recently_audited(self, actor: str, action: str, object_id: str, since: datetime) -> bool:
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT 1 FROM audit WHERE object_id = $1 AND action = $2 AND actor = $3 AND at >= $4"
                " UNION ALL SELECT 1 FROM audit_pending WHERE object_id = $1 AND action = $2 AND actor = $3"
                " AND at >= $4 LIMIT 1",
                (object_id, action, actor, since),
            )
        )
        return bool(rows)


class PgStaffNotifications:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(self, notification: StaffNotification, now: datetime) -> None:
        n = notification
        await self._conn.execute(
            "INSERT INTO staff_notifications (id, channel, body, state, attempts, next_attempt_at, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            (n.id, n.channel, n.body, n.state, n.attempts, n.next_attempt_at, now),
        )

    async def due(self, now: datetime, limit: int) -> list[StaffNotification]:
        rows = await self._conn.execute_fetchall(
            "SELECT * FROM staff_notifications WHERE state = 'pending' AND next_attempt_at <= $1"
            " ORDER BY next_attempt_at LIMIT $2",
            (now, limit),
        )
        return [notification_from(row) for row in rows]

    async def claim(self, notification_id: str, now: datetime, retry_at: datetime) -> StaffNotification | None:
        rows = list(
            await self._conn.execute_fetchall(
                "UPDATE staff_notifications SET attempts = attempts + 1, next_attempt_at = $1"
                " WHERE id = $2 AND state = 'pending' AND next_attempt_at <= $3 RETURNING *",
                (retry_at, notification_id, now),
            )
        )
        return notification_from(rows[0]) if rows else None

    async def update(self, notification_id: str, state: str, attempts: int, next_attempt_at: datetime) -> None:
        await self._conn.execute(
            "UPDATE staff_notifications SET state = $1, attempts = $2, next_attempt_at = $3 WHERE id = $4",
            (state, attempts, next_attempt_at, notification_id),
        )
