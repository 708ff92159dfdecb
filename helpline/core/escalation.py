"""Escalations: a volunteer's safeguarding flag, and supervisors acting on it.

States move one way: raised → acknowledged → decided → closed. A raised escalation that nobody has
acknowledged after ``ack_seconds`` alerts every supervisor again, and again every ``ack_seconds`` after
that; the first re-alert also notifies the on-call supervisor (by SMS or email, through the staff
notification queue). An immediate-danger flag notifies the on-call supervisor at once. Notifications say
only that an escalation is waiting and how urgent it is — never anything about the contact.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.access import require_reader
from helpline.core.events import EscalationAlert, EscalationChanged, EscalationRaised, Event
from helpline.core.ids import new_id
from helpline.core.models import DECISIONS, LEVELS, Conversation, Escalation, StaffNotification, User
from helpline.core.ports import Cipher, Notifier, Store, Tx
from helpline.errors import Conflict, Forbidden, InvalidInput, NotFound

MAX_NOTE_CHARS = 4000
# The most closed escalations a history view lists.
HISTORY_LIMIT = 500
LEVEL_WORDS = {
    "concern": "a concern",
    "significant_harm": "risk of significant harm",
    "immediate_danger": "IMMEDIATE DANGER",
}


@dataclass(frozen=True)
class EscalationView:
    escalation: Escalation
    note: str
    decision_note: str | None
    raised_by: str | None
    acknowledged_by: str | None = None
    decided_by: str | None = None


@dataclass(frozen=True)
class OnCall:
    """Where on-call notifications go: a channel name, or empty for none."""

    channel: str
    console_url: str


class Escalations:
    def __init__(
        self,
        store: Store,
        cipher: Cipher,
        notifier: Notifier,
        clock: Clock,
        *,
        categories: Sequence[str],
        ack_after: timedelta,
        oncall: OnCall,
    ) -> None:
        self._store = store
        self._cipher = cipher
        self._notifier = notifier
        self._clock = clock
        self._categories = frozenset(categories)
        self._ack_after = ack_after
        self._oncall = oncall

    async def raise_flag(self, user: User, conversation_id: str, category: str, level: str, note: str) -> str:
        """Open an escalation on a conversation the user holds; supervisors are alerted at once."""
        require_reader(user)
        if category not in self._categories:
            raise InvalidInput("Choose a category from the list.")
        if level not in LEVELS:
            raise InvalidInput("The level is concern, significant harm or immediate danger.")
        if len(note) > MAX_NOTE_CHARS:
            raise InvalidInput(f"A note can be at most {MAX_NOTE_CHARS} characters.")
        now = self._clock.now()
        escalation_id = new_id()

        async def work(tx: Tx) -> None:
            conversation = await tx.conversations.get(conversation_id)
            if conversation is None:
                raise NotFound("There is no such conversation.")
            if conversation.status == "closed" or conversation.key is None:
                raise Conflict("A flag can only be raised on an open conversation.")
            if conversation.assignee_id != user.id and not user.is_supervisor:
                raise Forbidden("Only the volunteer holding this conversation can flag it.")
            sealed = self._cipher.seal(conversation.key, "escalations", escalation_id, "note", note)
            notify_now = level == "immediate_danger" and bool(self._oncall.channel)
            escalation = Escalation(
                id=escalation_id,
                conversation_id=conversation_id,
                category=category,
                level=level,
                note=sealed,
                state="raised",
                raised_by=user.id,
                raised_at=now,
                acknowledged_by=None,
                acknowledged_at=None,
                decision=None,
                decision_note=None,
                decided_by=None,
                decided_at=None,
                closed_at=None,
                next_alert_at=now + self._ack_after,
                alerts=1,
                oncall_notified_at=now if notify_now else None,
            )
            await tx.escalations.insert(escalation)
            if notify_now:
                await self._notify_oncall(tx, escalation, now, waited=None)
            await tx.audit.append(
                AuditEntry(
                    now,
                    user.id,
                    Action.ESCALATION_RAISED,
                    escalation_id,
                    {"conversation": conversation_id, "category": category, "level": level},
                )
            )

        await self._store.write(work)
        self._notifier.publish(EscalationRaised(conversation_id, escalation_id, level))
        return escalation_id

    async def acknowledge(self, user: User, escalation_id: str) -> None:
        await self._move(
            user,
            escalation_id,
            "acknowledged",
            Action.ESCALATION_ACKNOWLEDGED,
            lambda tx, now: tx.escalations.acknowledge(escalation_id, user.id, now),
        )

    async def decide(self, user: User, escalation_id: str, decision: str, note: str) -> None:
        if decision not in DECISIONS:
            raise InvalidInput(
                "The decision is advice given, referred, emergency services contacted or no further action."
            )
        if len(note) > MAX_NOTE_CHARS:
            raise InvalidInput(f"A note can be at most {MAX_NOTE_CHARS} characters.")

        async def change(tx: Tx, now: datetime) -> bool:
            escalation = await tx.escalations.get(escalation_id)
            conversation = await tx.conversations.get(escalation.conversation_id) if escalation else None
            if conversation is None or conversation.key is None:
                return False
            sealed = self._cipher.seal(conversation.key, "escalations", escalation_id, "decision_note", note)
            return await tx.escalations.decide(escalation_id, user.id, decision, sealed, now)

        await self._move(user, escalation_id, "decided", Action.ESCALATION_DECIDED, change, {"decision": decision})

    async def close(self, user: User, escalation_id: str) -> None:
        await self._move(
            user,
            escalation_id,
            "closed",
            Action.ESCALATION_CLOSED,
            lambda tx, now: tx.escalations.close(escalation_id, user.id, now),
        )

    async def _move(
        self,
        user: User,
        escalation_id: str,
        to_state: str,
        action: Action,
        change: Callable[[Tx, datetime], Awaitable[bool]],
        detail: dict[str, str] | None = None,
    ) -> None:
        _require_supervisor(user)
        now = self._clock.now()
        expected = {"acknowledged": "raised", "decided": "acknowledged", "closed": "decided"}[to_state]

        async def work(tx: Tx) -> str:
            escalation = await tx.escalations.get(escalation_id)
            if escalation is None:
                raise NotFound("There is no such escalation.")
            if escalation.state != expected:
                who = await tx.users.get(escalation.acknowledged_by) if escalation.acknowledged_by else None
                raise Conflict(_wrong_state(escalation, to_state, who.username if who else None))
            if not await change(tx, now):
                raise Conflict(_wrong_state(escalation, to_state))
            await tx.audit.append(AuditEntry(now, user.id, action, escalation_id, detail or {}))
            return escalation.conversation_id

        conversation_id = await self._store.write(work)
        self._notifier.publish(EscalationChanged(conversation_id, escalation_id, to_state))

    async def open_escalations(self, user: User) -> list[EscalationView]:
        _require_supervisor(user)
        escalations = await self._store.read(lambda tx: tx.escalations.open())
        return [await self._view(e) for e in escalations]

    async def closed_since(self, user: User, days: int) -> list[EscalationView]:
        """Escalations closed in the last ``days`` days (1: since this time yesterday), for handover."""
        _require_supervisor(user)
        since = self._clock.now() - timedelta(days=days)
        escalations = await self._store.read(lambda tx: tx.escalations.closed_since(since, HISTORY_LIMIT))
        return [await self._view(e) for e in escalations]

    async def for_conversation(self, user: User, conversation_id: str) -> list[EscalationView]:
        """A conversation's escalations, for supervisors and for the volunteer holding it (after a transfer too)."""

        async def work(tx: Tx) -> list[Escalation]:
            conversation = await tx.conversations.get(conversation_id)
            if conversation is None:
                raise NotFound("There is no such conversation.")
            holds = conversation.assignee_id == user.id and conversation.status == "active"
            if not (user.is_supervisor or holds):
                raise Forbidden("Only supervisors and the volunteer holding this conversation can see its flags.")
            return await tx.escalations.for_conversation(conversation_id)

        escalations = await self._store.read(work)
        return [await self._view(e) for e in escalations]

    async def _view(self, escalation: Escalation) -> EscalationView:
        async def name(tx: Tx, user_id: str | None) -> str | None:
            user = await tx.users.get(user_id) if user_id else None
            return user.username if user else None

        async def work(tx: Tx) -> tuple[Conversation | None, list[str | None]]:
            conversation = await tx.conversations.get(escalation.conversation_id)
            people = [escalation.raised_by, escalation.acknowledged_by, escalation.decided_by]
            return conversation, [await name(tx, person) for person in people]

        conversation, (raised_by, acknowledged_by, decided_by) = await self._store.read(work)
        key = conversation.key if conversation is not None else None
        if key is None:
            return EscalationView(escalation, "", None, raised_by, acknowledged_by, decided_by)
        note = self._cipher.open(key, "escalations", escalation.id, "note", escalation.note)
        decision_note = None
        if escalation.decision_note is not None:
            decision_note = self._cipher.open(
                key, "escalations", escalation.id, "decision_note", escalation.decision_note
            )
        return EscalationView(escalation, note, decision_note, raised_by, acknowledged_by, decided_by)

    async def alert_due(self) -> int:
        """Re-alert every unacknowledged escalation whose time has come; returns how many. (The timer's step.)"""
        now = self._clock.now()
        events: list[Event] = []

        async def work(tx: Tx) -> int:
            events.clear()
            # Locked, skipping any another worker holds: each re-alert (and on-call text) is made once.
            due = await tx.escalations.due_alerts(now)
            for escalation in due:
                notify = escalation.oncall_notified_at is None and bool(self._oncall.channel)
                if notify:
                    await self._notify_oncall(tx, escalation, now, waited=now - escalation.raised_at)
                await tx.escalations.alerted(escalation.id, now + self._ack_after, now if notify else None)
                await tx.audit.append(
                    AuditEntry(
                        now,
                        "system",
                        Action.ESCALATION_REALERTED,
                        escalation.id,
                        {"oncall_notified": "yes" if notify else "no"},
                    )
                )
                events.append(EscalationAlert(escalation.conversation_id, escalation.id, escalation.level))
            return len(due)

        count = await self._store.write(work)
        for event in events:
            self._notifier.publish(event)
        return count

    async def _notify_oncall(self, tx: Tx, escalation: Escalation, now: datetime, waited: timedelta | None) -> None:
        how_long = f" has waited {int(waited.total_seconds() // 60)} min unacknowledged" if waited else " was raised"
        body = (
            f"Helpline: an escalation ({LEVEL_WORDS.get(escalation.level, escalation.level)}){how_long}. "
            f"Please open the console: {self._oncall.console_url}"
        )
        notification = StaffNotification(new_id(), self._oncall.channel, body, "pending", 0, now)
        await tx.staff_notifications.add(notification, now)


def _require_supervisor(user: User) -> None:
    if not user.is_supervisor:
        raise Forbidden("Only supervisors can act on escalations.")


def _wrong_state(escalation: Escalation, to_state: str, acknowledged_by: str | None = None) -> str:
    if to_state == "acknowledged" and escalation.state != "raised" and acknowledged_by:
        return f"This escalation was already acknowledged by {acknowledged_by}."
    if escalation.state == to_state or (to_state == "acknowledged" and escalation.state != "raised"):
        return f"This escalation is already {escalation.state}."
    return f"This escalation is {escalation.state}; it cannot be {to_state} now."
