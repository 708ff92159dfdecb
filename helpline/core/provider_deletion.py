"""Provider-side deletion: the provider's copy of a message (Twilio's message record) is deleted too.

The provider's id of each message is kept sealed under the conversation's data key in
``messages.provider_id``: an outbound one from the moment the provider accepts it, an inbound one from the
moment it is stored. A message is queued for deletion once the provider is done with it — inbound at once,
outbound when its delivery is final (delivered, undelivered or failed) — and the worker asks the provider
to delete it (with its media). Then:

- deleted, or already gone: the queue row and the sealed id are dropped;
- not yet possible (Twilio's 20009 while a message is still in progress) or a transient failure: tried
  again as its due-job rule says (``core/retry.py``: doubling from its base up to its maximum);
- refused for good, or still failing ``give_up_after`` since it was queued: given up — the sealed id is
  dropped, the audit log says so with the provider's error code, and the record stays at the provider.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.models import FINAL_DELIVERY, KeyRef, ProviderDeletion
from helpline.core.ports import Cipher, Store, Tx
from helpline.core.retry import DueRule
from helpline.errors import CryptoError, MasterKeyError

SYSTEM = "system"


# How long a worker holds a row it took (longer than a provider call can take): if it dies, another takes it.
LEASE = timedelta(minutes=1)


@dataclass(frozen=True)
class DeletionPolicy:
    channels: tuple[str, ...]
    # The queue's due-job rule (``core/retry.py``): its backoff, its lease and when it gives up.
    rule: DueRule
    batch_size: int


@dataclass(frozen=True)
class DeletionJob:
    """One deletion to ask for: the provider's id, opened only for the moment of asking."""

    item: ProviderDeletion
    provider_id: str = field(repr=False)


class ProviderDeletions:
    """The deletion queue's state machine; the provider-deletion worker drives it."""

    def __init__(self, store: Store, cipher: Cipher, clock: Clock, policy: DeletionPolicy) -> None:
        self._store = store
        self._cipher = cipher
        self._clock = clock
        self.policy = policy

    async def collect(self) -> int:
        """Queue every message the provider is done with; returns how many were added."""
        now = self._clock.now()
        channels: Sequence[str] = self.policy.channels
        final = sorted(FINAL_DELIVERY)
        return await self._store.write(lambda tx: tx.provider_deletions.enqueue(channels, final, now))

    async def due(self) -> list[ProviderDeletion]:
        now = self._clock.now()
        return await self._store.read(lambda tx: tx.provider_deletions.due(now, self.policy.batch_size))

    async def open(self, item: ProviderDeletion) -> DeletionJob | None:
        """The provider id to delete, the row taken for this worker; None when another worker has it, or (and the
        row dropped) when it can no longer be read."""
        now = self._clock.now()

        async def work(tx: Tx) -> tuple[bool, KeyRef | None, bytes | None]:
            if not await tx.provider_deletions.claim(item.message_id, now, self.policy.rule.held_until(now)):
                return False, None, None
            conversation = await tx.conversations.get(item.conversation_id)
            sealed = await tx.provider_deletions.sealed_provider_id(item.message_id)
            return True, (conversation.key if conversation is not None else None), sealed

        taken, key, sealed = await self._store.write(work)
        if not taken:
            return None
        if sealed is None:
            await self._store.write(lambda tx: tx.provider_deletions.done(item.message_id))
            return None
        if key is None:
            await self.give_up(item, "shredded")
            return None
        try:
            provider_id = self._cipher.open(key, "messages", item.message_id, "provider_id", sealed)
        except (CryptoError, MasterKeyError):
            await self.give_up(item, "unreadable")
            return None
        return DeletionJob(item, provider_id)

    async def deleted(self, item: ProviderDeletion) -> None:
        """The provider no longer holds the record."""
        await self._store.write(lambda tx: tx.provider_deletions.done(item.message_id))

    async def failed(self, item: ProviderDeletion, code: str, *, permanent: bool) -> None:
        """The provider did not delete it: retry later, or give up."""
        now = self._clock.now()
        attempts = item.attempts + 1
        if permanent or self.policy.rule.gives_up(attempts, now, item.queued_at):
            await self.give_up(item, code)
            return
        retry_at = self.policy.rule.again_at(now, attempts)
        await self._store.write(lambda tx: tx.provider_deletions.retry(item.message_id, attempts, retry_at, code))

    async def give_up(self, item: ProviderDeletion, code: str) -> None:
        now = self._clock.now()

        async def work(tx: Tx) -> None:
            await tx.provider_deletions.done(item.message_id)
            detail = {"channel": item.channel, "code": code, "conversation": item.conversation_id}
            await tx.audit.append(AuditEntry(now, SYSTEM, Action.PROVIDER_RECORD_KEPT, item.message_id, detail))

        await self._store.write(work)
