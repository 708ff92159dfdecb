"""Supervisors' oversight of live conversations: joining to write to the contact, and whispering to the volunteer.

Monitoring is reading a conversation someone else holds (``Conversations.view``), audited once per
supervisor and conversation every ``MONITOR_AUDIT_EVERY``. Joining lets a supervisor send messages to the
contact alongside the volunteer; a whisper goes to the volunteer only and is never sent. Each is audited.
"""

from __future__ import annotations

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.events import WhisperAdded
from helpline.core.ids import new_id
from helpline.core.models import Conversation, User
from helpline.core.ports import Cipher, Notifier, Store, Tx
from helpline.errors import Conflict, Forbidden, InvalidInput, NotFound

MAX_WHISPER_CHARS = 2000


class Oversight:
    def __init__(self, store: Store, cipher: Cipher, notifier: Notifier, clock: Clock) -> None:
        self._store = store
        self._cipher = cipher
        self._notifier = notifier
        self._clock = clock

    async def join(self, user: User, conversation_id: str) -> None:
        _require_supervisor(user)
        now = self._clock.now()

        async def work(tx: Tx) -> None:
            conversation = await tx.conversations.get(conversation_id)
            if conversation is None:
                raise NotFound("There is no such conversation.")
            if conversation.status == "closed":
                raise Conflict("This conversation is closed.")
            if await tx.oversight.joined(conversation_id, user.id):
                return
            await tx.oversight.join(conversation_id, user.id, now)
            await tx.audit.append(AuditEntry(now, user.id, Action.CONVERSATION_JOINED, conversation_id))

        await self._store.write(work)

    async def whisper(self, user: User, conversation_id: str, body: str) -> str:
        _require_supervisor(user)
        if not body.strip():
            raise InvalidInput("Write the whisper before sending it.")
        if len(body) > MAX_WHISPER_CHARS:
            raise InvalidInput(f"A whisper can be at most {MAX_WHISPER_CHARS} characters.")
        now = self._clock.now()
        whisper_id = new_id()

        async def work(tx: Tx) -> None:
            conversation = await tx.conversations.get(conversation_id)
            if conversation is None:
                raise NotFound("There is no such conversation.")
            if conversation.status != "active" or conversation.key is None:
                raise Conflict("You can whisper only to a volunteer holding an open conversation.")
            sealed = self._cipher.seal(conversation.key, "whispers", whisper_id, "body", body)
            await tx.oversight.add_whisper(whisper_id, conversation_id, user.id, sealed, now)
            await tx.audit.append(AuditEntry(now, user.id, Action.CONVERSATION_WHISPERED, conversation_id))

        await self._store.write(work)
        self._notifier.publish(WhisperAdded(conversation_id, whisper_id))
        return whisper_id


def _require_supervisor(user: User) -> None:
    if not user.is_supervisor:
        raise Forbidden("Only supervisors can join conversations or whisper.")


async def require_holder_or_joined(tx: Tx, user: User, conversation: Conversation, doing: str) -> None:
    """Only the holder, or a supervisor who joined, may act on a conversation: monitoring is read-only."""
    if conversation.assignee_id == user.id:
        return
    if not user.is_supervisor:
        raise Forbidden(f"Only the volunteer holding this conversation can {doing}.")
    if not await tx.oversight.joined(conversation.id, user.id):
        raise Forbidden(f"Monitoring is read-only: join this conversation before you {doing}.")
