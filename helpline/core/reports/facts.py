"""The content-free rows a report is computed from, as the store reads them (``ReportRepo``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ConversationFacts:
    """One conversation, without a word of it: how it came, when, how it ended and how it was classified."""

    id: str
    channel: str
    status: str
    created_at: datetime
    closed_at: datetime | None
    outcome: str | None
    contact_type: str | None
    missing_type: str | None
    returning: bool
    out_of_hours: bool
    contact_left_at: datetime | None


@dataclass(frozen=True)
class AnswerFacts:
    """A staff member's first reply in a conversation."""

    conversation_id: str
    user_id: str
    username: str
    first_reply_at: datetime


@dataclass(frozen=True)
class EscalationFacts:
    """A safeguarding escalation's category, level, decision and times (never its notes)."""

    category: str
    level: str
    state: str
    decision: str | None
    raised_at: datetime
    acknowledged_at: datetime | None


@dataclass(frozen=True)
class DisclosureFacts:
    """A request to disclose an address: its state and when it was asked (never its reason)."""

    state: str
    requested_at: datetime


@dataclass(frozen=True)
class AvailabilitySpan:
    """A time a staff member was available; ``ended_at`` is None while they still are."""

    user_id: str
    username: str
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class ReportFacts:
    """Everything one report reads, in one read."""

    conversations: list[ConversationFacts]
    answers: list[AnswerFacts]
    escalations: list[EscalationFacts]
    disclosures: list[DisclosureFacts]
    availability: list[AvailabilitySpan]
