"""Consented records: kept only when the contact agrees, under the record's own data key.

A record holds what the contact chose to tell (name, date of birth, contact details) and a summary of how
they were helped, with the exact consent wording and the time they agreed. It is found again for a
returning contact by a blind index — a keyed HMAC of the channel and address — computed only when a
record is made with consent; without consent nothing links two conversations. A volunteer reads only a
record linked to a conversation they hold; a supervisor reads any; an admin none. Every read is audited,
and so is every refused one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.access import require_reader
from helpline.core.ids import new_id
from helpline.core.models import Conversation, RecordFields, StoredRecord, User
from helpline.core.ports import Cipher, Pseudonymizer, Store, Tx
from helpline.errors import Conflict, Forbidden, InvalidInput, NotFound

LIMITS = {"name": 200, "date_of_birth": 40, "contact_details": 1000, "summary": 8000}


@dataclass(frozen=True)
class RecordView:
    id: str
    fields: RecordFields
    consent_wording: str
    consented_at: datetime
    created_by: str | None
    conversation_ids: list[str]


def check_fields(fields: RecordFields) -> None:
    """Refuse a record that is empty or has a field over its limit."""
    if not fields.name.strip() and not fields.summary.strip():
        raise InvalidInput("A record needs at least a name or a summary.")
    for name, limit in LIMITS.items():
        if len(getattr(fields, name)) > limit:
            raise InvalidInput(f"The record's {name.replace('_', ' ')} can be at most {limit} characters.")


class Records:
    def __init__(self, store: Store, cipher: Cipher, pseudonyms: Pseudonymizer, clock: Clock) -> None:
        self._store = store
        self._cipher = cipher
        self._pseudonyms = pseudonyms
        self._clock = clock

    async def create_in(
        self, tx: Tx, user: User, conversation: Conversation, fields: RecordFields, wording: str, now: datetime
    ) -> str:
        """Keep a record for a consenting contact, inside the closing transaction; returns its id."""
        record_id = new_id()
        key = self._cipher.new_key("records", record_id)
        blind_index = None
        sealed_address = await tx.conversations.get_vault(conversation.id)
        if sealed_address is not None and conversation.key is not None:
            address = self._cipher.open(conversation.key, "vault", conversation.id, "address", sealed_address)
            blind_index = self._pseudonyms.blind_index(conversation.channel, address)

        def seal(field_name: str) -> bytes:
            return self._cipher.seal(key, "records", record_id, field_name, getattr(fields, field_name))

        record = StoredRecord(
            id=record_id,
            key=key,
            blind_index=blind_index,
            name=seal("name"),
            date_of_birth=seal("date_of_birth"),
            contact_details=seal("contact_details"),
            summary=seal("summary"),
            consent_wording=wording,
            consented_at=now,
            created_by=user.id,
            created_by_name=None,
            created_at=now,
        )
        await tx.records.insert(record, conversation.id)
        await tx.conversations.set_record(conversation.id, record_id)
        await tx.audit.append(
            AuditEntry(now, user.id, Action.RECORD_CREATED, record_id, {"conversation": conversation.id})
        )
        return record_id

    async def find_in(self, tx: Tx, channel: str, address: str) -> str | None:
        """The record of a returning contact who consented before, if there is one."""
        return await tx.records.find(self._pseudonyms.blind_index(channel, address))

    async def read(self, user: User, record_id: str) -> RecordView:
        """Open a record for a staff member; the read is on the audit log before anything is shown."""
        require_reader(user)
        now = self._clock.now()

        async def work(tx: Tx) -> tuple[StoredRecord | None, list[str]]:
            record = await tx.records.get(record_id)
            if record is None:
                raise NotFound("There is no such record.")
            conversations = await tx.conversations.for_record(record_id)
            detail = {}
            if not user.is_supervisor:
                held = [c for c in conversations if await _holds(tx, user, c)]
                if not held:
                    await tx.audit.append(AuditEntry(now, user.id, Action.RECORD_READ_DENIED, record_id))
                    return None, conversations
                detail = {"conversation": held[0]}
            await tx.audit.append(AuditEntry(now, user.id, Action.RECORD_READ, record_id, detail))
            return record, conversations

        found, conversations = await self._store.write(work)
        if found is None:
            raise Forbidden("You can read a record only from a conversation you hold that it belongs to.")
        record = found
        if record.key is None:
            raise Conflict("This record has been erased.")
        key = record.key

        def open_field(name: str) -> str:
            return self._cipher.open(key, "records", record.id, name, getattr(record, name))

        fields = RecordFields(
            open_field("name"), open_field("date_of_birth"), open_field("contact_details"), open_field("summary")
        )
        return RecordView(
            record.id, fields, record.consent_wording, record.consented_at, record.created_by_name, conversations
        )


async def _holds(tx: Tx, user: User, conversation_id: str) -> bool:
    """The user holds (or held, until it closed) the conversation: the same test as reading its transcript."""
    conversation = await tx.conversations.get(conversation_id)
    return conversation is not None and conversation.assignee_id == user.id
