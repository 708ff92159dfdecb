"""Every action the audit log records, with a stable dotted name.

An audit entry names the actor (a user id, or ``system``), the action, the object's opaque id and a few
ids or codes as detail — never an address, a name given by a contact, or message text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Action(StrEnum):
    """The audited actions."""

    SIGNED_IN = "auth.signed_in"
    """A console user signed in."""
    SIGN_IN_FAILED = "auth.sign_in_failed"
    """A sign-in was refused (wrong password, unknown or disabled account)."""
    SIGNED_OUT = "auth.signed_out"
    """A console user signed out."""
    USER_ADDED = "user.added"
    """An account was created (detail: roles, space-separated)."""
    USER_ROLES_CHANGED = "user.roles_changed"
    """An account's roles were changed on the command line (detail: roles, space-separated)."""
    CONVERSATION_OPENED = "conversation.opened"
    """A contact started a new conversation (detail: channel)."""
    CONVERSATION_CLAIMED = "conversation.claimed"
    """A volunteer claimed a waiting conversation."""
    CONVERSATION_CLOSED = "conversation.closed"
    """A conversation was closed (detail: outcome)."""
    CONVERSATION_VIEWED = "conversation.viewed"
    """A supervisor read a conversation someone else holds."""
    CONVERSATION_TRANSFERRED = "conversation.transferred"
    """A conversation moved to another volunteer or back to the queue (detail: to)."""
    CONVERSATION_RETURNED = "conversation.returned"
    """A conversation went back to the queue because its holder signed out or was away (detail: reason)."""
    NOTE_ADDED = "note.added"
    """A staff note was added to a conversation."""
    RECORD_CREATED = "record.created"
    """A consenting contact's record was kept."""
    RECORD_READ = "record.read"
    """A staff member read a consented record (detail: for a volunteer, the conversation they hold it through)."""
    RECORD_READ_DENIED = "record.read_denied"
    """A volunteer asked for a record not linked to any conversation they hold; nothing was shown."""
    SENDER_BLOCKED = "sender.blocked"
    """A sender was blocked (detail: days)."""
    BLOCK_LIFTED = "block.lifted"
    """A supervisor lifted a block."""
    AVAILABILITY_CHANGED = "user.availability_changed"
    """A user became available, away or offline."""
    ACCOUNT_LOCKED = "auth.account_locked"
    """Too many failed sign-ins locked an account (detail: minutes); written once per lock."""
    TOTP_ENROLLED = "auth.totp_enrolled"
    """A user turned on two-factor sign-in."""
    TOTP_REENROLLED = "auth.totp_reenrolled"
    """A user replaced the second factor they had, having given its current code or their password."""
    USER_DISABLED = "user.disabled"
    """An admin disabled an account."""
    USER_ENABLED = "user.enabled"
    """An admin enabled an account again."""
    TOTP_RESET = "user.totp_reset"
    """An admin reset an account's two-factor sign-in."""
    PASSWORD_RESET = "user.password_reset"  # noqa: S105 - an action name, not a password
    """An admin (or the command line) gave an account a new password; its sessions ended."""
    PASSWORD_CHANGED = "auth.password_changed"  # noqa: S105 - an action name, not a password
    """A user changed their own password; their other sessions ended."""
    USER_UNLOCKED = "user.unlocked"
    """An admin unlocked an account."""
    CANNED_CHANGED = "admin.canned_changed"
    """An admin added, changed or deleted a canned response."""
    HOURS_CHANGED = "admin.hours_changed"
    """An admin changed the opening hours or the closed message."""
    ESCALATION_RAISED = "escalation.raised"
    """A volunteer flagged a conversation (detail: category, level)."""
    ESCALATION_ACKNOWLEDGED = "escalation.acknowledged"
    """A supervisor acknowledged an escalation."""
    ESCALATION_DECIDED = "escalation.decided"
    """A supervisor decided what to do (detail: decision)."""
    ESCALATION_CLOSED = "escalation.closed"
    """A supervisor closed an escalation."""
    ESCALATION_REALERTED = "escalation.realerted"
    """An escalation was still unacknowledged after the configured time (detail: on-call notified)."""
    CONTACT_LEFT = "conversation.contact_left"
    """The contact ended a live chat, left by quick exit, or timed out (detail: reason)."""
    CONVERSATION_JOINED = "conversation.joined"
    """A supervisor joined a conversation to write to the contact."""
    CONVERSATION_WHISPERED = "conversation.whispered"
    """A supervisor whispered to the volunteer holding a conversation."""
    DISCLOSURE_REQUESTED = "disclosure.requested"
    """A supervisor asked to see a contact's address for emergency services (detail: reason)."""
    DISCLOSURE_APPROVED = "disclosure.approved"
    """A second supervisor approved a disclosure."""
    DISCLOSURE_REFUSED = "disclosure.refused"
    """A second supervisor refused a disclosure."""
    DISCLOSURE_DECISION_DENIED = "disclosure.decision_denied"
    """An account tried to decide a disclosure it may not: its requester's, or one asked before the account
    existed, or by the account that created it (detail: why)."""
    DISCLOSURE_SHOWN = "disclosure.shown"
    """A contact's address was shown to the requesting supervisor, once."""
    CONVERSATION_REOPENED = "conversation.reopened"
    """The contact wrote again within the grace period after closing, so the conversation waits again."""
    CONVERSATION_PURGED = "conversation.purged"
    """Retention destroyed a closed conversation's transcript and data key."""
    RECORD_PURGED = "record.purged"
    """Retention destroyed a consented record and its data key."""
    RECORD_ERASED = "record.erased"
    """An admin erased a record and its conversations on the contact's request (detail: counts)."""
    RETENTION_PURGED = "retention.purged"
    """A purge ran and removed something (detail: counts of addresses, idempotency keys, blocks)."""
    PROVIDER_RECORD_KEPT = "provider.record_kept"
    """Deleting a message's record at the provider was given up (detail: the provider's error code)."""
    KEYS_ROTATED = "keys.rotated"
    """Every data key, secret and open route now uses the new master key version (detail: version, counts)."""
    KEY_RETIRED = "keys.retired"
    """A master key version was removed from the key file (detail: version)."""


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log: who did what to which object. Never an address or message text."""

    at: datetime
    actor: str
    action: str
    object_id: str | None
    detail: dict[str, str] = field(default_factory=dict)
