"""Break-glass disclosure: revealing a contact's address to pass to emergency services.

Only for a conversation with an escalation at *significant harm* or *immediate danger*. A supervisor
asks, with a written reason; with dual control (the default) a second supervisor must approve — a different
person in the sense that matters: not the requester, an account that existed before the request, and not
one the requester created (an admin who is also a supervisor cannot make an account to approve its own
request). A refused attempt to decide is audited too. The requester then sees the address once.
 The audit entry for showing it is committed before the address
leaves the server. If the vault entry is gone (the conversation closed), there is nothing to disclose,
and the answer says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.events import DisclosureChanged
from helpline.core.ids import new_id
from helpline.core.models import Conversation, Disclosure, StaffNotification, User
from helpline.core.ports import Cipher, Notifier, Store, Tx
from helpline.errors import Conflict, Forbidden, InvalidInput, NotFound

GONE = "The contact's address no longer exists: it was deleted when the conversation closed."
SERIOUS = ("significant_harm", "immediate_danger")


@dataclass(frozen=True)
class Revealed:
    address: str
    channel: str


class Disclosures:
    def __init__(
        self,
        store: Store,
        cipher: Cipher,
        notifier: Notifier,
        clock: Clock,
        *,
        dual_control: bool,
        min_reason_chars: int,
        oncall_channel: str = "",
        console_url: str = "",
    ) -> None:
        self._oncall_channel = oncall_channel
        self._console_url = console_url
        self._store = store
        self._cipher = cipher
        self._notifier = notifier
        self._clock = clock
        self._dual_control = dual_control
        self._min_reason_chars = min_reason_chars

    async def request(self, user: User, conversation_id: str, reason: str) -> Disclosure:
        _require_supervisor(user)
        reason = reason.strip()
        if len(reason) < self._min_reason_chars:
            raise InvalidInput(f"Write the reason for disclosure (at least {self._min_reason_chars} characters).")
        if len(reason) > 2000:
            raise InvalidInput("A reason can be at most 2000 characters.")
        now = self._clock.now()
        disclosure_id = new_id()

        async def work(tx: Tx) -> Disclosure:
            conversation = await tx.conversations.get(conversation_id)
            if conversation is None:
                raise NotFound("There is no such conversation.")
            if await tx.conversations.get_vault(conversation_id) is None:
                raise Conflict(GONE)
            serious = [e for e in await tx.escalations.for_conversation(conversation_id) if e.level in SERIOUS]
            if not serious:
                raise Conflict("Disclosure needs an escalation at significant harm or immediate danger.")
            state = "requested" if self._dual_control else "approved"
            disclosure = Disclosure(
                disclosure_id,
                conversation_id,
                serious[-1].id,
                user.id,
                user.username,
                now,
                reason,
                state,
                None if self._dual_control else user.id,
                None if self._dual_control else now,
            )
            await tx.disclosures.insert(disclosure)
            if self._dual_control and self._oncall_channel:
                # Waiting for a second supervisor is as urgent as immediate danger: the on-call one is told too.
                body = (
                    "Helpline: a disclosure request (risk of significant harm) needs a second supervisor now. "
                    f"Please open the console: {self._console_url}"
                )
                notice = StaffNotification(new_id(), self._oncall_channel, body, "pending", 0, now)
                await tx.staff_notifications.add(notice, now)
            await tx.audit.append(
                AuditEntry(
                    now,
                    user.id,
                    Action.DISCLOSURE_REQUESTED,
                    disclosure_id,
                    {"conversation": conversation_id, "reason": reason},
                )
            )
            return disclosure

        disclosure = await self._store.write(work)
        self._notifier.publish(DisclosureChanged(conversation_id, disclosure_id, disclosure.state))
        return disclosure

    async def decide(self, user: User, disclosure_id: str, approve: bool) -> None:
        """A second supervisor approves or refuses; the requester cannot approve their own request."""
        _require_supervisor(user)
        now = self._clock.now()
        to_state = "approved" if approve else "refused"

        async def work(tx: Tx) -> tuple[str, str]:
            disclosure = await tx.disclosures.get(disclosure_id)
            if disclosure is None:
                raise NotFound("There is no such disclosure request.")
            why = _not_independent(disclosure, await tx.users.get(user.id))
            if why:
                # Kept: the attempt is audited although nothing else changes.
                detail = {"why": why}
                await tx.audit.append(
                    AuditEntry(now, user.id, Action.DISCLOSURE_DECISION_DENIED, disclosure_id, detail)
                )
                return disclosure.conversation_id, why
            if not await tx.disclosures.set_state(disclosure_id, "requested", to_state, user.id, now):
                raise Conflict(f"This request is already {disclosure.state}.")
            action = Action.DISCLOSURE_APPROVED if approve else Action.DISCLOSURE_REFUSED
            await tx.audit.append(AuditEntry(now, user.id, action, disclosure_id))
            return disclosure.conversation_id, ""

        conversation_id, why = await self._store.write(work)
        if why:
            raise Forbidden(NOT_INDEPENDENT[why])
        self._notifier.publish(DisclosureChanged(conversation_id, disclosure_id, to_state))

    async def reveal(self, user: User, disclosure_id: str) -> Revealed:
        """Show the address once, to the supervisor who asked; the audit entry is committed first."""
        _require_supervisor(user)
        now = self._clock.now()

        async def work(tx: Tx) -> tuple[Disclosure, bytes, Conversation]:
            disclosure = await tx.disclosures.get(disclosure_id)
            if disclosure is None:
                raise NotFound("There is no such disclosure request.")
            if disclosure.requested_by != user.id:
                raise Forbidden("Only the supervisor who asked can see the address.")
            if disclosure.state == "shown":
                raise Conflict("The address was already shown once. Ask again if you need it.")
            if disclosure.state != "approved":
                raise Conflict(f"This request is {disclosure.state}, not approved.")
            conversation = await tx.conversations.get(disclosure.conversation_id)
            sealed = await tx.conversations.get_vault(disclosure.conversation_id)
            if conversation is None or conversation.key is None or sealed is None:
                raise Conflict(GONE)
            await tx.disclosures.set_state(disclosure_id, "approved", "shown", None, now)
            await tx.audit.append(
                AuditEntry(
                    now, user.id, Action.DISCLOSURE_SHOWN, disclosure_id, {"conversation": disclosure.conversation_id}
                )
            )
            return disclosure, sealed, conversation

        disclosure, sealed, conversation = await self._store.write(work)
        # Only now, with the audit entry durable, is the address opened.
        assert conversation.key is not None  # noqa: S101 - checked in the transaction
        address = self._cipher.open(conversation.key, "vault", disclosure.conversation_id, "address", sealed)
        self._notifier.publish(DisclosureChanged(disclosure.conversation_id, disclosure_id, "shown"))
        return Revealed(address, conversation.channel)

    async def pending(self, user: User) -> list[Disclosure]:
        _require_supervisor(user)
        return await self._store.read(lambda tx: tx.disclosures.pending())


NOT_INDEPENDENT = {
    "requester": "A second supervisor must decide on a disclosure you asked for.",
    "created_by_requester": "The supervisor who asked created your account, so you cannot decide on their request.",
    "newer_than_request": "Your account was made after this request, so you cannot decide on it.",
}


def _not_independent(disclosure: Disclosure, approver: User | None) -> str:
    """Why this account may not decide on the request ("" if it may): dual control needs another person."""
    if approver is None or disclosure.requested_by == approver.id:
        return "requester"
    if approver.created_by is not None and approver.created_by == disclosure.requested_by:
        return "created_by_requester"
    if approver.created_at is None or approver.created_at > disclosure.requested_at:
        return "newer_than_request"
    return ""


def _require_supervisor(user: User) -> None:
    if not user.is_supervisor:
        raise Forbidden("Only supervisors can handle disclosures.")
