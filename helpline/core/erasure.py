"""Erasure on request: a contact asks the helpline to delete the record they consented to, and what it links.

An admin (in the console, or an operator with ``helpline records erase``) erases the record: its fields,
blind index and data key are destroyed, and so is the transcript of every conversation linked to it —
except a conversation that is still open, or held for safeguarding (an escalation not closed, or closed
less than ``safeguarding`` ago): those stay, unlinked, and retention removes them when their time comes.
The audit entry names the record and counts; it carries nothing the contact told us.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.models import User
from helpline.core.ports import KeyWrapping, Maintenance, Store, Tx
from helpline.errors import Conflict, Forbidden, NotFound

OPERATOR = "cli"


@dataclass(frozen=True)
class Erased:
    """What an erasure destroyed, and which linked conversations it had to keep (and why)."""

    record_id: str
    conversations: list[str] = field(default_factory=list)
    held: dict[str, str] = field(default_factory=dict)


class Erasure:
    def __init__(
        self, store: Store, keys: KeyWrapping, maintenance: Maintenance, clock: Clock, *, safeguarding: timedelta
    ) -> None:
        self._store = store
        self._keys = keys
        self._maintenance = maintenance
        self._clock = clock
        self._safeguarding = safeguarding

    async def erase(self, admin: User, record_id: str) -> Erased:
        """An admin erases a record on its contact's request."""
        if not admin.is_admin:
            raise Forbidden("Only an admin can erase a record.")
        return await self._erase(admin.id, record_id)

    async def erase_as_operator(self, record_id: str) -> Erased:
        """The server's operator erases a record from the command line."""
        return await self._erase(OPERATOR, record_id)

    async def _erase(self, actor: str, record_id: str) -> Erased:
        now = self._clock.now()
        held_before = now - self._safeguarding

        async def work(tx: Tx) -> Erased:
            record = await tx.records.get(record_id)
            if record is None:
                raise NotFound("There is no such record.")
            if record.key is None:
                raise Conflict("This record has already been erased.")
            erased = Erased(record_id)
            for conversation_id in await tx.conversations.for_record(record_id):
                conversation = await tx.conversations.get(conversation_id)
                if conversation is None:
                    continue
                if conversation.status != "closed":
                    erased.held[conversation_id] = "open"
                elif await tx.retention.held_for_safeguarding(conversation_id, held_before):
                    erased.held[conversation_id] = "safeguarding"
                elif await tx.retention.shred_conversation(conversation_id, now):
                    erased.conversations.append(conversation_id)
            await tx.retention.shred_record(record_id, "erased", now)
            detail = {"conversations": str(len(erased.conversations)), "held": str(len(erased.held))}
            await tx.audit.append(AuditEntry(now, actor, Action.RECORD_ERASED, record_id, detail))
            return erased

        erased = await self._store.write(work)
        self._keys.forget("records", record_id)
        for conversation_id in erased.conversations:
            self._keys.forget("conversations", conversation_id)
        await self._maintenance.checkpoint()
        return erased
