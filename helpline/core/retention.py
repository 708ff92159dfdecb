"""Retention: how long each kind of data is kept, and the purge that removes it by crypto-shredding.

What a purge does, in order, each step in small transactions so that a purge killed at any moment leaves
every row either untouched or fully done, and the next purge simply carries on:

1. **Addresses.** A closed conversation's routing pseudonym, thread keys and vault entry are deleted once it
   has been closed ``vault_grace`` (the vault entry only when no reply is still waiting to be sent; the
   outbound worker deletes it after the last one).
2. **Transcripts.** A conversation closed ``transcript`` ago loses its messages, notes, whispers, outbox and
   provider-deletion rows, address, route and thread keys, and its wrapped data key is set to NULL: every
   ciphertext of it left anywhere (an escalation's sealed note, the WAL, a backup) can no longer be opened
   with the database. A conversation with an escalation that is not closed is never purged; one whose
   escalations are all closed is kept until the latest closed ``safeguarding`` ago. The conversation row
   stays, content-free (channel, times, outcome, classification), for statistics.
3. **Records.** A consented record whose consent and every linked conversation's close are ``record`` ago
   loses its fields, blind index and data key, and its conversations are unlinked.
4. **Idempotency keys** older than ``inbound_keys``, and blocks that ended on purged conversations.
5. The store's checkpoint (``Maintenance``): where the engine allows, removed rows and keys are then in neither
   its write-ahead log nor its free pages (see SECURITY.md for each engine).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.ports import KeyWrapping, Maintenance, Store, Tx

SYSTEM = "system"
Progress = Callable[[str, int], None]
# One batch: how many rows were due, and the ids of those actually shredded.
Batch = Callable[[Tx], Awaitable[tuple[int, list[str]]]]


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of data is kept; ``batch_size`` rows are removed per transaction."""

    vault_grace: timedelta
    transcript: timedelta
    record: timedelta
    safeguarding: timedelta
    inbound_keys: timedelta
    batch_size: int


@dataclass
class PurgeReport:
    """What one purge removed."""

    addresses: int = 0
    conversations: int = 0
    records: int = 0
    inbound_keys: int = 0
    blocks: int = 0

    @property
    def anything(self) -> bool:
        return any((self.addresses, self.conversations, self.records, self.inbound_keys, self.blocks))


class Retention:
    """Applies the retention policy: the purge worker runs it on a timer, ``helpline purge`` on demand."""

    def __init__(
        self, store: Store, keys: KeyWrapping, maintenance: Maintenance, clock: Clock, policy: RetentionPolicy
    ) -> None:
        self._store = store
        self._keys = keys
        self._maintenance = maintenance
        self._clock = clock
        self.policy = policy

    async def expire_addresses(self) -> int:
        """Delete the route, thread keys and vault entry of conversations closed longer than the grace period."""
        closed_before = self._clock.now() - self.policy.vault_grace
        batch = self.policy.batch_size
        total = 0
        while True:

            async def work(tx: Tx) -> int:
                due = await tx.retention.addresses_due(closed_before, batch)
                for conversation_id in due:
                    await tx.retention.forget_address(conversation_id)
                return len(due)

            done = await self._store.write(work)
            total += done
            if done < batch:
                return total

    async def purge(self, progress: Progress | None = None) -> PurgeReport:
        """Remove everything past its retention period, then checkpoint the store. Safe to run again at any time."""
        report = PurgeReport()
        now = self._clock.now()
        report.addresses = await self.expire_addresses()
        report.conversations = await self._in_batches(self._purge_transcripts(now), "conversations", progress)
        report.records = await self._in_batches(self._purge_records(now), "records", progress)

        async def rest(tx: Tx) -> tuple[int, int]:
            inbound = await tx.retention.forget_inbound_keys(now - self.policy.inbound_keys)
            blocks = await tx.retention.forget_ended_blocks(now)
            if report.anything or inbound or blocks:
                detail = {
                    "addresses": str(report.addresses),
                    "conversations": str(report.conversations),
                    "records": str(report.records),
                    "inbound_keys": str(inbound),
                    "blocks": str(blocks),
                }
                await tx.audit.append(AuditEntry(now, SYSTEM, Action.RETENTION_PURGED, None, detail))
            return inbound, blocks

        report.inbound_keys, report.blocks = await self._store.write(rest)
        await self._maintenance.checkpoint()
        return report

    def _purge_transcripts(self, now: datetime) -> Batch:
        closed_before = now - self.policy.transcript
        held_before = now - self.policy.safeguarding

        async def work(tx: Tx) -> tuple[int, list[str]]:
            due = await tx.retention.transcripts_due(closed_before, held_before, self.policy.batch_size)
            done = []
            for conversation_id in due:
                if await tx.retention.shred_conversation(conversation_id, now):
                    await tx.audit.append(AuditEntry(now, SYSTEM, Action.CONVERSATION_PURGED, conversation_id))
                    done.append(conversation_id)
            return len(due), done

        return work

    def _purge_records(self, now: datetime) -> Batch:
        async def work(tx: Tx) -> tuple[int, list[str]]:
            due = await tx.retention.records_due(now - self.policy.record, self.policy.batch_size)
            done = []
            for record_id in due:
                if await tx.retention.shred_record(record_id, "expired", now):
                    await tx.audit.append(AuditEntry(now, SYSTEM, Action.RECORD_PURGED, record_id))
                    done.append(record_id)
            return len(due), done

        return work

    async def _in_batches(self, work: Batch, table: str, progress: Progress | None) -> int:
        total = 0
        while True:
            seen, done = await self._store.write(work)
            for row_id in done:
                self._keys.forget(table, row_id)
            total += len(done)
            if progress is not None and done:
                progress(table, total)
            if seen < self.policy.batch_size:
                return total
