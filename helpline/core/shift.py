"""Who is on shift: live consoles, who may be offered conversations, and conversations whose holder left.

"Available" means present: a user is offered conversations (transfers, the floor's count) only while their
console is live and their status is Available. Volunteers are Available when they sign in; supervisors and
admins start Away and take conversations only once they choose Available.

A holder who signs out, or whose console has not been live for ``away_after``, no longer answers: each
conversation they hold goes back to the queue (keeping its notes and priority, and its place by the time
the contact first waited), and supervisors are told live (``ConversationReturned``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.access import require_reader
from helpline.core.events import ConversationReturned, Event, StaffChanged
from helpline.core.models import StaffMember, User
from helpline.core.ports import Notifier, PresenceBook, Store, Tx
from helpline.log import get_logger

log = get_logger(__name__)
# A console closed this recently still counts as present: moving between console pages reopens it.
PRESENT_GRACE = timedelta(seconds=20)
RETURN_REASONS = ("signed_out", "away")


def _sound_key(user: User) -> str:
    return f"user.{user.id}.message_sound"


def starts_available(user: User) -> bool:
    """Whether signing in makes the user Available: volunteers yes; supervisors opt in; an admin alone never."""
    return "volunteer" in user.roles


class Shift:
    def __init__(
        self, store: Store, presence: PresenceBook, notifier: Notifier, clock: Clock, *, away_after: timedelta
    ) -> None:
        self._store = store
        self._presence = presence
        self._notifier = notifier
        self._clock = clock
        self._away_after = away_after
        # Nobody's console has been seen before this instance started: holders are given until then plus away_after.
        self._since = clock.now()

    @property
    def presence(self) -> PresenceBook:
        return self._presence

    def present(self, user: User) -> bool:
        """Whether the user has a live console now (or had one a moment ago, between two pages)."""
        now = self._clock.now()
        last = self._presence.last_live(user.id, now)
        return last is not None and now - last <= PRESENT_GRACE

    def available(self, user: User) -> bool:
        """Whether the user can be offered conversations: answers contacts, enabled, Available, and present."""
        return (
            user.reads_conversations and not user.disabled and user.availability == "available" and self.present(user)
        )

    async def available_staff(self, asking: User) -> list[StaffMember]:
        """Who a conversation can be transferred to, with what each holds."""
        require_reader(asking)

        async def work(tx: Tx) -> list[StaffMember]:
            held = await tx.conversations.held()
            return [
                StaffMember(
                    u.username, u.role_names, u.availability, [c for c in held if c.assignee_id == u.id], True, True
                )
                for u in await tx.users.all()
                if self.available(u)
            ]

        return await self._store.read(work)

    async def message_sound(self, user: User) -> bool:
        """Whether the user asked for a tone on each new contact message (off until they do: a shared room)."""
        value = await self._store.read(lambda tx: tx.runtime_settings.get(_sound_key(user)))
        return value == "on"

    async def set_message_sound(self, user: User, on: bool) -> None:
        """Keep the user's choice on the server: the console stores nothing in the browser."""
        now = self._clock.now()
        await self._store.write(lambda tx: tx.runtime_settings.put(_sound_key(user), "on" if on else "off", now))

    async def supervisors_online(self) -> int:
        """How many supervisors have a live console now (whatever their status: alerts reach them all)."""
        users = await self._store.read(lambda tx: tx.users.all())
        return sum(1 for u in users if u.is_supervisor and not u.disabled and self.present(u))

    async def signed_out(self, user: User) -> int:
        """The user signed out: every conversation they hold goes back to the queue. Returns how many."""
        self._presence.signed_out(user.id)
        return await self._return_held(user.id, user.username, "signed_out")

    async def return_absent(self) -> int:
        """Return the conversations of every holder whose console has not been live for ``away_after``."""
        now = self._clock.now()

        async def holders(tx: Tx) -> list[User]:
            held = {c.assignee_id for c in await tx.conversations.held()}
            return [u for u in await tx.users.all() if u.id in held]

        returned = 0
        for user in await self._store.read(holders):
            if self._gone_since(user, now) >= self._away_after:
                returned += await self._return_held(user.id, user.username, "away")
        return returned

    def _gone_since(self, user: User, now: datetime) -> timedelta:
        last = self._presence.last_live(user.id, now) or self._since
        return now - max(last, self._since)

    async def _return_held(self, user_id: str, username: str, reason: str) -> int:
        now = self._clock.now()
        events: list[Event] = []

        async def work(tx: Tx) -> None:
            for conversation in await tx.conversations.held_by(user_id):
                if await tx.conversations.return_to_queue(conversation.id):
                    entry = AuditEntry(now, user_id, Action.CONVERSATION_RETURNED, conversation.id, {"reason": reason})
                    await tx.audit.append(entry)
                    events.append(ConversationReturned(conversation.id, reason, username))

        await self._store.write(work)
        if events:
            log.info("shift.conversations_returned", user_id=user_id, reason=reason, count=len(events))
            for event in [*events, StaffChanged("")]:
                self._notifier.publish(event)
        return len(events)
