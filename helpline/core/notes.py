"""Private notes on a conversation: for staff only, sealed like messages, never sent."""

from __future__ import annotations

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.access import require_reader
from helpline.core.events import NoteAdded
from helpline.core.ids import new_id
from helpline.core.models import StoredNote, User
from helpline.core.ports import Cipher, Notifier, Store, Tx
from helpline.errors import Conflict, Forbidden, InvalidInput, NotFound

MAX_NOTE_CHARS = 4000


class Notes:
    def __init__(self, store: Store, cipher: Cipher, notifier: Notifier, clock: Clock) -> None:
        self._store = store
        self._cipher = cipher
        self._notifier = notifier
        self._clock = clock

    async def add(self, user: User, conversation_id: str, body: str) -> str:
        """Add a private note to a conversation the user holds (or, for supervisors, any)."""
        require_reader(user)
        if not body.strip():
            raise InvalidInput("Write the note before saving it.")
        if len(body) > MAX_NOTE_CHARS:
            raise InvalidInput(f"A note can be at most {MAX_NOTE_CHARS} characters.")
        now = self._clock.now()
        note_id = new_id()

        async def work(tx: Tx) -> None:
            conversation = await tx.conversations.get(conversation_id)
            if conversation is None:
                raise NotFound("There is no such conversation.")
            if conversation.assignee_id != user.id and not user.is_supervisor:
                raise Forbidden("Only the volunteer holding this conversation can add notes to it.")
            if conversation.key is None:
                raise Conflict("This conversation's transcript no longer exists.")
            sealed = self._cipher.seal(conversation.key, "notes", note_id, "body", body)
            await tx.notes.insert(StoredNote(note_id, conversation_id, user.id, None, "note", sealed, now))
            await tx.audit.append(AuditEntry(now, user.id, Action.NOTE_ADDED, conversation_id, {"note": note_id}))

        await self._store.write(work)
        self._notifier.publish(NoteAdded(conversation_id, note_id))
        return note_id
