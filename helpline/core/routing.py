"""Who answers whom: claiming, taking the next conversation, capacity, and transfers.

A volunteer holds at most ``max_concurrent`` conversations. Claims cannot collide: the store assigns a
conversation in one statement, only ``WHERE assignee IS NULL``, so of two volunteers claiming at once exactly
one wins. The capacity check runs under the volunteer's row lock, so two claims by one volunteer at once are
counted one after the other. **Take next** picks the waiting conversation with the highest risk band, then the
longest wait, passing over one that another volunteer's take-next is claiming at that moment.
"""

from __future__ import annotations

from collections.abc import Callable

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.access import require_reader
from helpline.core.events import ConversationClaimed, ConversationTransferred, Event, NoteAdded, StaffChanged
from helpline.core.ids import new_id
from helpline.core.models import Conversation, StoredNote, User
from helpline.core.oversight import require_holder_or_joined
from helpline.core.ports import Cipher, Notifier, Store, Tx
from helpline.errors import Conflict, InvalidInput, NotFound

MAX_NOTE_CHARS = 4000


class Routing:
    """Claims, take-next and transfers."""

    def __init__(
        self,
        store: Store,
        cipher: Cipher,
        notifier: Notifier,
        clock: Clock,
        *,
        max_concurrent: int,
        available: Callable[[User], bool],
    ) -> None:
        self._store = store
        self._available = available
        self._cipher = cipher
        self._notifier = notifier
        self._clock = clock
        self.max_concurrent = max_concurrent

    async def holding(self, user: User) -> int:
        return await self._store.read(lambda tx: tx.conversations.count_active(user.id))

    async def claim(self, user: User, conversation_id: str) -> Conversation:
        """Take a waiting conversation; exactly one of two volunteers claiming at once wins."""
        require_reader(user)
        now = self._clock.now()

        async def work(tx: Tx) -> Conversation:
            conversation = await tx.conversations.get(conversation_id)
            if conversation is None:
                raise NotFound("There is no such conversation.")
            if conversation.assignee_id == user.id and conversation.status == "active":
                return conversation
            if conversation.status == "closed":
                raise Conflict("This conversation is closed.")
            if conversation.assignee_id is not None:
                raise Conflict("Someone else has already claimed this conversation.")
            await self._check_capacity(tx, user)
            if not await tx.conversations.claim(conversation_id, user.id):
                raise Conflict("Someone else has already claimed this conversation.")
            await tx.audit.append(AuditEntry(now, user.id, Action.CONVERSATION_CLAIMED, conversation_id))
            return await self._reload(tx, conversation_id)

        claimed = await self._store.write(work)
        self._publish([ConversationClaimed(conversation_id, user.username), StaffChanged("")])
        return claimed

    async def take_next(self, user: User) -> Conversation:
        """Assign the highest-priority, longest-waiting conversation to the user, atomically."""
        require_reader(user)
        if user.availability != "available":
            raise Conflict("Set yourself as available to take conversations.")
        now = self._clock.now()

        async def work(tx: Tx) -> Conversation:
            await self._check_capacity(tx, user)
            candidate = await tx.conversations.next_waiting()
            if candidate is None:
                raise NotFound("No one is waiting.")
            if not await tx.conversations.claim(candidate.id, user.id):  # pragma: no cover - next_waiting locked it
                raise Conflict("That conversation was just taken; try again.")
            await tx.audit.append(AuditEntry(now, user.id, Action.CONVERSATION_CLAIMED, candidate.id))
            return await self._reload(tx, candidate.id)

        taken = await self._store.write(work)
        self._publish([ConversationClaimed(taken.id, user.username), StaffChanged("")])
        return taken

    async def transfer(self, user: User, conversation_id: str, to_username: str | None, note: str) -> Conversation:
        """Hand a conversation to an available volunteer with room, or back to the queue, with a handover note."""
        require_reader(user)
        if len(note) > MAX_NOTE_CHARS:
            raise InvalidInput(f"A handover note can be at most {MAX_NOTE_CHARS} characters.")
        now = self._clock.now()
        events: list[Event] = []

        async def work(tx: Tx) -> Conversation:
            events.clear()
            conversation = await tx.conversations.get(conversation_id)
            if conversation is None:
                raise NotFound("There is no such conversation.")
            if conversation.status != "active":
                raise Conflict("Only a conversation someone holds can be transferred.")
            await require_holder_or_joined(tx, user, conversation, "transfer it")
            if to_username is None:
                await tx.conversations.return_to_queue(conversation_id)
            else:
                target = await tx.users.by_name(to_username)
                if target is None or target.disabled or not target.reads_conversations:
                    raise InvalidInput("There is no such volunteer.")
                if target.id == conversation.assignee_id:
                    raise InvalidInput("They already hold this conversation.")
                if not self._available(target):
                    raise Conflict(f"{target.username} is not available: no console open, or not set to Available.")
                await tx.users.lock(target.id)
                if await tx.conversations.count_active(target.id) >= self.max_concurrent:
                    raise Conflict(f"{target.username} already holds as many conversations as they can.")
                await tx.conversations.assign(conversation_id, target.id)
            if note.strip():
                assert conversation.key is not None  # noqa: S101 - an active conversation always has its key
                note_id = new_id()
                sealed = self._cipher.seal(conversation.key, "notes", note_id, "body", note)
                await tx.notes.insert(StoredNote(note_id, conversation_id, user.id, None, "handover", sealed, now))
                events.append(NoteAdded(conversation_id, note_id))
            await tx.audit.append(
                AuditEntry(
                    now, user.id, Action.CONVERSATION_TRANSFERRED, conversation_id, {"to": to_username or "queue"}
                )
            )
            return await self._reload(tx, conversation_id)

        moved = await self._store.write(work)
        self._publish([ConversationTransferred(conversation_id, to_username, user.username), *events, StaffChanged("")])
        return moved

    async def _check_capacity(self, tx: Tx, user: User) -> None:
        await tx.users.lock(user.id)
        if await tx.conversations.count_active(user.id) >= self.max_concurrent:
            raise Conflict(
                f"You already hold {self.max_concurrent} conversations. Close or transfer one before taking another."
            )

    @staticmethod
    async def _reload(tx: Tx, conversation_id: str) -> Conversation:
        conversation = await tx.conversations.get(conversation_id)
        assert conversation is not None  # noqa: S101 - changed inside this transaction
        return conversation

    def _publish(self, events: list[Event]) -> None:
        for event in events:
            self._notifier.publish(event)
