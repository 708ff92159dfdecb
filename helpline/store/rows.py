"""How a row read by either engine becomes a model: one function per kind of row, for SQLite and PostgreSQL.

Both engines' rows read by column name and by position alike. They differ only in times: PostgreSQL answers a
``datetime``, SQLite the text ``clock.to_text`` wrote. ``at`` and ``maybe_at`` read either, so every function
here serves both engines; the SQL that fetches the rows stays in each engine's own folder.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from helpline.clock import from_text
from helpline.core.models import (
    ROLES,
    Block,
    Disclosure,
    Escalation,
    KeyRef,
    KeyVersion,
    ProviderDeletion,
    Role,
    RouteEntry,
    SealedSecret,
    Session,
    SignInLimit,
    StaffNotification,
    StoredNote,
    StoredRecord,
    User,
)
from helpline.core.reports.facts import (
    AnswerFacts,
    AvailabilitySpan,
    ConversationFacts,
    DisclosureFacts,
    EscalationFacts,
)
from helpline.store.names import SECRET_COLUMNS


class Row(Protocol):
    """A row as both drivers give it (``sqlite3.Row``, ``asyncpg.Record``): read by column name or position."""

    def __getitem__(self, key: str | int, /) -> Any: ...


def at(value: datetime | str) -> datetime:
    """A time column's value, from either engine."""
    return value if isinstance(value, datetime) else from_text(value)


def maybe_at(value: datetime | str | None) -> datetime | None:
    """A nullable time column's value, from either engine."""
    return None if value is None else at(value)


def maybe_bytes(value: bytes | memoryview | None) -> bytes | None:
    return None if value is None else bytes(value)


# The user columns the account queries select, named so that a join with sessions keeps them apart.
USER_COLUMNS = (
    "u.id AS u_id, u.username, u.roles, u.disabled, u.password_hash, u.availability, u.totp_secret,"
    " u.created_at AS u_created_at, u.created_by"
)


def roles_from(text: str) -> frozenset[Role]:
    """The roles held, from the space-separated text of ``users.roles``."""
    return frozenset(role for role in ROLES if role in text.split())


def roles_text(roles: frozenset[Role]) -> str:
    """The text ``users.roles`` holds, in the order of ``ROLES``."""
    return " ".join(role for role in ROLES if role in roles)


def user_from(row: Row) -> User:
    """A user from ``USER_COLUMNS``."""
    return User(
        id=row["u_id"],
        username=row["username"],
        roles=roles_from(row["roles"]),
        disabled=bool(row["disabled"]),
        password_hash=row["password_hash"],
        availability=row["availability"],
        totp_enabled=row["totp_secret"] is not None,
        created_at=maybe_at(row["u_created_at"]),
        created_by=row["created_by"],
    )


def session_from(row: Row) -> Session:
    """A session, joined with its user's ``USER_COLUMNS``."""
    return Session(
        token_hash=bytes(row["token_hash"]),
        user=user_from(row),
        csrf_token=row["csrf_token"],
        created_at=at(row["s_created"]),
        last_seen_at=at(row["last_seen_at"]),
    )


def signin_limit_from(row: Row) -> SignInLimit:
    return SignInLimit(
        row["attempts"], at(row["window_start"]), maybe_at(row["retry_at"]), maybe_at(row["locked_until"])
    )


def note_from(row: Row, kind: str | None = None) -> StoredNote:
    """A note (its kind from the row), or a whisper (``kind="whisper"``), joined with its author's username."""
    return StoredNote(
        row["id"],
        row["conversation_id"],
        row["author_id"],
        row["username"],
        row["kind"] if kind is None else kind,
        bytes(row["body"]),
        at(row["created_at"]),
    )


def record_from(row: Row) -> StoredRecord:
    """A consented record, joined with its creator's username."""
    data_key = row["data_key"]
    return StoredRecord(
        id=row["id"],
        key=KeyRef("records", row["id"], bytes(data_key), row["kek_version"]) if data_key is not None else None,
        blind_index=maybe_bytes(row["blind_index"]),
        name=bytes(row["name"]),
        date_of_birth=bytes(row["date_of_birth"]),
        contact_details=bytes(row["contact_details"]),
        summary=bytes(row["summary"]),
        consent_wording=row["consent_wording"],
        consented_at=at(row["consented_at"]),
        created_by=row["created_by"],
        created_by_name=row["username"],
        created_at=at(row["created_at"]),
    )


def block_from(row: Row) -> Block:
    """A block, joined with its creator's username."""
    return Block(
        id=row["id"],
        conversation_id=row["conversation_id"],
        reason=row["reason"],
        created_by=row["username"],
        created_at=at(row["created_at"]),
        expires_at=at(row["expires_at"]),
        lifted_at=maybe_at(row["lifted_at"]),
    )


def escalation_from(row: Row) -> Escalation:
    return Escalation(
        id=row["id"],
        conversation_id=row["conversation_id"],
        category=row["category"],
        level=row["level"],
        note=bytes(row["note"]),
        state=row["state"],
        raised_by=row["raised_by"],
        raised_at=at(row["raised_at"]),
        acknowledged_by=row["acknowledged_by"],
        acknowledged_at=maybe_at(row["acknowledged_at"]),
        decision=row["decision"],
        decision_note=maybe_bytes(row["decision_note"]),
        decided_by=row["decided_by"],
        decided_at=maybe_at(row["decided_at"]),
        closed_at=maybe_at(row["closed_at"]),
        next_alert_at=maybe_at(row["next_alert_at"]),
        alerts=row["alerts"],
        oncall_notified_at=maybe_at(row["oncall_notified_at"]),
    )


def disclosure_from(row: Row) -> Disclosure:
    """A disclosure request, joined with its requester's username."""
    return Disclosure(
        id=row["id"],
        conversation_id=row["conversation_id"],
        escalation_id=row["escalation_id"],
        requested_by=row["requested_by"],
        requested_by_name=row["username"],
        requested_at=at(row["requested_at"]),
        reason=row["reason"],
        state=row["state"],
        decided_by=row["decided_by"],
        decided_at=maybe_at(row["decided_at"]),
    )


def notification_from(row: Row) -> StaffNotification:
    return StaffNotification(
        row["id"], row["channel"], row["body"], row["state"], row["attempts"], at(row["next_attempt_at"])
    )


def deletion_from(row: Row) -> ProviderDeletion:
    return ProviderDeletion(
        message_id=row["message_id"],
        conversation_id=row["conversation_id"],
        channel=row["channel"],
        direction="in" if row["direction"] == "in" else "out",
        attempts=row["attempts"],
        queued_at=at(row["queued_at"]),
        next_attempt_at=at(row["next_attempt_at"]),
    )


def key_ref_from(table: str, row: Row) -> KeyRef:
    """A wrapped data key from ``id, data_key, kek_version``."""
    return KeyRef(table, row[0], bytes(row[1]), int(row[2] or 0))


def key_version_from(row: Row) -> KeyVersion:
    return KeyVersion(row["version"], at(row["added_at"]), maybe_at(row["rewrapped_at"]), maybe_at(row["retired_at"]))


def sealed_secrets_from(rows: Iterable[Row]) -> list[SealedSecret]:
    """Every sealed secret in rows of ``id`` and the ``SECRET_COLUMNS``."""
    return [
        SealedSecret(row["id"], column, bytes(row[column]))
        for row in rows
        for column in SECRET_COLUMNS
        if row[column] is not None
    ]


def route_from(row: Row) -> RouteEntry:
    """A route from ``conversation_id, pseudonym, channel, address, data_key, kek_version``."""
    return RouteEntry(
        conversation_id=row[0],
        channel=row[2],
        pseudonym=bytes(row[1]),
        sealed_address=bytes(row[3]),
        key=KeyRef("conversations", row[0], bytes(row[4]), int(row[5])),
    )


def conversation_facts_from(row: Row) -> ConversationFacts:
    return ConversationFacts(
        id=row["id"],
        channel=row["channel"],
        status=row["status"],
        created_at=at(row["created_at"]),
        closed_at=maybe_at(row["closed_at"]),
        outcome=row["outcome"],
        contact_type=row["contact_type"],
        missing_type=row["missing_type"],
        returning=bool(row["returning_contact"]),
        out_of_hours=bool(row["out_of_hours"]),
        contact_left_at=maybe_at(row["contact_left_at"]),
    )


def answer_facts_from(row: Row) -> AnswerFacts:
    return AnswerFacts(row["conversation_id"], row["user_id"], row["username"], at(row["first_reply_at"]))


def escalation_facts_from(row: Row) -> EscalationFacts:
    return EscalationFacts(
        category=row["category"],
        level=row["level"],
        state=row["state"],
        decision=row["decision"],
        raised_at=at(row["raised_at"]),
        acknowledged_at=maybe_at(row["acknowledged_at"]),
    )


def disclosure_facts_from(row: Row) -> DisclosureFacts:
    return DisclosureFacts(row["state"], at(row["requested_at"]))


def availability_span_from(row: Row) -> AvailabilitySpan:
    return AvailabilitySpan(row["user_id"], row["username"], at(row["started_at"]), maybe_at(row["ended_at"]))
