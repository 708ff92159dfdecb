"""Blocking an abusive sender: by routing pseudonym, with a reason and an expiry.

A blocked sender's messages are still acknowledged to the provider (so it stops retrying) but dropped
before anything is stored. The block keeps the keyed pseudonym only — never the address — and ends when
it expires or a supervisor lifts it.
"""

from __future__ import annotations

from datetime import timedelta

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.access import require_reader
from helpline.core.ids import new_id
from helpline.core.models import Block, User
from helpline.core.oversight import require_holder_or_joined
from helpline.core.ports import Store, Tx
from helpline.errors import Conflict, Forbidden, InvalidInput, NotFound

MAX_DAYS = 365
MAX_REASON_CHARS = 300


class Blocks:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def block(self, user: User, conversation_id: str, reason: str, days: int) -> str:
        """Block the sender of an open conversation for ``days`` days."""
        require_reader(user)
        if not reason.strip():
            raise InvalidInput("Give a reason for the block.")
        if len(reason) > MAX_REASON_CHARS:
            raise InvalidInput(f"A reason can be at most {MAX_REASON_CHARS} characters.")
        if not 1 <= days <= MAX_DAYS:
            raise InvalidInput(f"A block lasts from 1 to {MAX_DAYS} days.")
        now = self._clock.now()
        block_id = new_id()

        async def work(tx: Tx) -> None:
            conversation = await tx.conversations.get(conversation_id)
            if conversation is None:
                raise NotFound("There is no such conversation.")
            await require_holder_or_joined(tx, user, conversation, "block its sender")
            pseudonym = await tx.conversations.route_of(conversation_id)
            if pseudonym is None:
                raise Conflict("The sender can only be blocked while the conversation is open.")
            block = Block(block_id, conversation_id, reason.strip(), user.id, now, now + timedelta(days=days), None)
            await tx.blocks.insert(block, pseudonym)
            await tx.audit.append(
                AuditEntry(
                    now, user.id, Action.SENDER_BLOCKED, block_id, {"conversation": conversation_id, "days": str(days)}
                )
            )

        await self._store.write(work)
        return block_id

    async def lift(self, user: User, block_id: str) -> None:
        if not user.is_supervisor:
            raise Forbidden("Only a supervisor can lift a block.")
        now = self._clock.now()

        async def work(tx: Tx) -> None:
            if not await tx.blocks.lift(block_id, user.id, now):
                raise NotFound("There is no such active block.")
            await tx.audit.append(AuditEntry(now, user.id, Action.BLOCK_LIFTED, block_id))

        await self._store.write(work)

    async def active(self, user: User) -> list[Block]:
        if not user.is_supervisor:
            raise Forbidden("Only supervisors can see blocks.")
        now = self._clock.now()
        return await self._store.read(lambda tx: tx.blocks.active(now))
