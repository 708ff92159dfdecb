"""The PostgreSQL SQL behind reports: recording the content-free statistics, and reading them back for a period.

Sums, medians and time zones are worked out in ``core/reports``, not here.
"""

from __future__ import annotations

from datetime import datetime

from helpline.core.reports.facts import (
    AnswerFacts,
    AvailabilitySpan,
    ConversationFacts,
    DisclosureFacts,
    EscalationFacts,
)
from helpline.store.postgres.connection import PgConnection as Connection
from helpline.store.rows import (
    answer_facts_from,
    availability_span_from,
    conversation_facts_from,
    disclosure_facts_from,
    escalation_facts_from,
)


class PgReports:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def record_answer(self, conversation_id: str, user_id: str, now: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO answers (conversation_id, user_id, first_reply_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (conversation_id, user_id) DO NOTHING",
            (conversation_id, user_id, now),
        )

    async def record_availability(self, user_id: str, available: bool, now: datetime) -> None:
        if not available:
            await self._conn.execute(
                "UPDATE availability_spans SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL", (now, user_id)
            )
            return
        # A span closed at this very moment is taken up again rather than opened twice.
        await self._conn.execute(
            "INSERT INTO availability_spans (user_id, started_at) SELECT $1::text, $2::timestamptz"
            " WHERE NOT EXISTS (SELECT 1 FROM availability_spans WHERE user_id = $1 AND ended_at IS NULL)"
            " ON CONFLICT (user_id, started_at) DO UPDATE SET ended_at = NULL",
            (user_id, now),
        )

    async def mark_conversation(self, conversation_id: str, *, returning: bool, out_of_hours: bool) -> None:
        await self._conn.execute(
            "UPDATE conversations SET returning_contact = $1, out_of_hours = $2 WHERE id = $3",
            (returning, out_of_hours, conversation_id),
        )

    async def conversations(self, start: datetime, end: datetime) -> list[ConversationFacts]:
        rows = await self._conn.execute_fetchall(
            "SELECT id, channel, status, created_at, closed_at, outcome, contact_type, missing_type,"
            " returning_contact, out_of_hours, contact_left_at FROM conversations"
            " WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, id",
            (start, end),
        )
        return [conversation_facts_from(row) for row in rows]

    async def answers(self, start: datetime, end: datetime) -> list[AnswerFacts]:
        rows = await self._conn.execute_fetchall(
            "SELECT a.conversation_id, a.user_id, u.username, a.first_reply_at FROM answers a"
            " JOIN conversations c ON c.id = a.conversation_id JOIN users u ON u.id = a.user_id"
            " WHERE c.created_at >= $1 AND c.created_at < $2 ORDER BY a.first_reply_at, a.conversation_id, a.user_id",
            (start, end),
        )
        return [answer_facts_from(row) for row in rows]

    async def escalations(self, start: datetime, end: datetime) -> list[EscalationFacts]:
        rows = await self._conn.execute_fetchall(
            "SELECT category, level, state, decision, raised_at, acknowledged_at FROM escalations"
            " WHERE raised_at >= $1 AND raised_at < $2 ORDER BY raised_at, id",
            (start, end),
        )
        return [escalation_facts_from(row) for row in rows]

    async def disclosures(self, start: datetime, end: datetime) -> list[DisclosureFacts]:
        rows = await self._conn.execute_fetchall(
            "SELECT state, requested_at FROM disclosures WHERE requested_at >= $1 AND requested_at < $2"
            " ORDER BY requested_at, id",
            (start, end),
        )
        return [disclosure_facts_from(row) for row in rows]

    async def availability(self, start: datetime, end: datetime) -> list[AvailabilitySpan]:
        rows = await self._conn.execute_fetchall(
            "SELECT s.user_id, u.username, s.started_at, s.ended_at FROM availability_spans s"
            " JOIN users u ON u.id = s.user_id"
            " WHERE s.started_at < $1 AND (s.ended_at IS NULL OR s.ended_at > $2) ORDER BY s.started_at, s.user_id",
            (end, start),
        )
        return [availability_span_from(row) for row in rows]
