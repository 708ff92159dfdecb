"""Closing a conversation: the outcome, the 116 000 classification, and — only with consent — a record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.access import require_reader
from helpline.core.events import ConversationClosed, StaffChanged
from helpline.core.ids import new_id
from helpline.core.models import Conversation, RecordFields, StoredNote, User
from helpline.core.oversight import require_holder_or_joined
from helpline.core.ports import Cipher, Notifier, Store, Tx
from helpline.core.records import Records, check_fields
from helpline.errors import Conflict, InvalidInput, NotFound

# The outcome of a live chat whose contact left while it waited: closed by anyone, without claiming it.
LEFT_BEFORE_ANSWER = "left_before_answer"
# A conversation at this risk band or above, closed without a safeguarding flag, needs a reason why not.
HIGH_BAND = 2
MIN_NO_FLAG_CHARS = 10
MAX_NO_FLAG_CHARS = 1000


@dataclass(frozen=True)
class ClosingForm:
    """What the volunteer records when closing."""

    outcome: str
    contact_type: str | None = None
    missing_type: str | None = None
    consent: bool = False
    record: RecordFields | None = None
    # Why no safeguarding flag was raised on a high-risk conversation (kept as a sealed private note).
    no_flag_reason: str = ""


class Closer:
    """Closes conversations; the sender's next message then opens a new one.

    The routing pseudonym goes at once. The vault entry goes too, unless replies are still waiting to
    be sent, in which case the outbound worker deletes it after the last one. With a ``vault_grace``
    (``retention.vault_grace_minutes``), both are kept that long instead — a message in that time reopens
    this conversation — and the purge worker deletes them when it ends.
    """

    def __init__(
        self,
        store: Store,
        cipher: Cipher,
        records: Records,
        notifier: Notifier,
        clock: Clock,
        *,
        outcomes: Sequence[str],
        contact_types: Sequence[str],
        missing_types: Sequence[str],
        consent_wording: str,
        vault_grace: timedelta = timedelta(0),
    ) -> None:
        self._store = store
        self._cipher = cipher
        self._vault_grace = vault_grace
        self._records = records
        self._notifier = notifier
        self._clock = clock
        self._outcomes = frozenset(outcomes)
        self._contact_types = frozenset(contact_types)
        self._missing_types = frozenset(missing_types)
        self._consent_wording = consent_wording

    def check(self, form: ClosingForm) -> None:
        if form.outcome not in self._outcomes and form.outcome != LEFT_BEFORE_ANSWER:
            raise InvalidInput("Choose one of the listed outcomes.")
        if form.contact_type is not None and form.contact_type not in self._contact_types:
            raise InvalidInput("Choose who was contacting from the list.")
        if form.missing_type is not None and form.missing_type not in self._missing_types:
            raise InvalidInput("Choose the kind of missing from the list.")
        if form.consent and form.record is None:
            raise InvalidInput("With consent, fill in what the contact agreed to let us keep.")
        if not form.consent and form.record is not None:
            raise InvalidInput("Nothing can be kept about a contact who did not consent.")
        if form.record is not None:
            check_fields(form.record)
        if len(form.no_flag_reason) > MAX_NO_FLAG_CHARS:
            raise InvalidInput(f"The reason can be at most {MAX_NO_FLAG_CHARS} characters.")

    async def _no_flag_reason(self, tx: Tx, conversation: Conversation, form: ClosingForm) -> str:
        """A high-risk conversation closed with no safeguarding flag needs a short reason: the note to keep."""
        if conversation.priority < HIGH_BAND or form.outcome == LEFT_BEFORE_ANSWER:
            return ""
        if await tx.escalations.for_conversation(conversation.id):
            return ""
        reason = form.no_flag_reason.strip()
        if len(reason) < MIN_NO_FLAG_CHARS:
            raise InvalidInput(
                "This conversation's risk is high and no safeguarding flag was raised. Raise a flag, or say in a few"
                " words why none is needed.",
                code="no_flag_reason_needed",
            )
        return f"Closed without a safeguarding flag: {reason}"

    async def close(self, user: User, conversation_id: str, form: ClosingForm) -> None:
        require_reader(user)
        self.check(form)
        now = self._clock.now()

        async def work(tx: Tx) -> None:
            # Locked: a reply being queued now waits, then finds the conversation closed (and no vault entry is
            # deleted under a reply that is still in the outbox).
            conversation = await tx.conversations.lock(conversation_id)
            if conversation is None:
                raise NotFound("There is no such conversation.")
            if conversation.status == "closed":
                raise Conflict("This conversation is already closed.")
            left = conversation.contact_left_at is not None
            if form.outcome == LEFT_BEFORE_ANSWER and not left:
                raise InvalidInput("Only a chat whose contact has left can be closed as left before an answer.")
            if form.outcome == LEFT_BEFORE_ANSWER and conversation.assignee_id is None:
                pass  # nobody is there to answer: anyone may close it, in one click
            elif conversation.assignee_id is None:
                if not user.is_supervisor:  # a supervisor may close a waiting one: nobody's to monitor
                    raise Conflict("Claim this conversation before closing it.")
            else:
                await require_holder_or_joined(tx, user, conversation, "close it")
            no_flag = await self._no_flag_reason(tx, conversation, form)
            if no_flag:
                assert conversation.key is not None  # noqa: S101 - an open conversation has its key
                note_id = new_id()
                sealed = self._cipher.seal(conversation.key, "notes", note_id, "body", no_flag)
                await tx.notes.insert(StoredNote(note_id, conversation_id, user.id, None, "note", sealed, now))
            if form.record is not None:
                await self._records.create_in(tx, user, conversation, form.record, self._consent_wording, now)
            if form.contact_type is not None:
                await tx.conversations.set_classification(conversation_id, form.contact_type, form.missing_type)
            await tx.conversations.close(conversation_id, form.outcome, now)
            if self._vault_grace <= timedelta(0):
                await tx.conversations.remove_route(conversation_id)
                if await tx.outbox.pending_for(conversation_id) == 0:
                    await tx.conversations.delete_vault(conversation_id)
            await tx.audit.append(
                AuditEntry(now, user.id, Action.CONVERSATION_CLOSED, conversation_id, {"outcome": form.outcome})
            )

        await self._store.write(work)
        self._notifier.publish(ConversationClosed(conversation_id, user.username))
        self._notifier.publish(StaffChanged(""))
