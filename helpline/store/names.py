"""The names and clauses both engines put into their SQL text, and the checks that only these names go in.

A table or column name cannot be a query parameter, so the few that are chosen at run time are taken from the
fixed lists here, and a name that came back from a caller is checked against them before it is used.
"""

from __future__ import annotations

from collections.abc import Iterator

from helpline.core.models import KeyRef, SealedSecret

# The tables that own a wrapped data key, in the order a rewrap walks them.
KEY_OWNERS = ("conversations", "records")
# What a conversation's transcript is made of, children first (the queue rows point at messages).
CONTENT_TABLES = ("provider_deletions", "outbox", "messages", "notes", "whispers", "vault", "routes", "thread_keys")
# The user columns that hold a sealed secret.
SECRET_COLUMNS = ("totp_secret", "totp_pending")

# Escalations, most urgent first: immediate danger, then significant harm, then concern; older first in a level.
URGENCY = "CASE level WHEN 'immediate_danger' THEN 0 WHEN 'significant_harm' THEN 1 ELSE 2 END, raised_at"
# Disclosures with their requester's username, as ``rows.disclosure_from`` reads them.
DISCLOSURES = "SELECT d.*, u.username FROM disclosures d LEFT JOIN users u ON u.id = d.requested_by"


def key_owners_after(after: tuple[str, str] | None) -> Iterator[tuple[str, str]]:
    """Each key-owning table still to walk from the position ``after`` (table, id), with the id to start after."""
    for table in KEY_OWNERS:
        if after is not None and KEY_OWNERS.index(table) < KEY_OWNERS.index(after[0]):
            continue
        yield table, after[1] if after is not None and after[0] == table else ""


def key_owner(old: KeyRef, new: KeyRef) -> str:
    """The table whose data key ``new`` replaces ``old`` in; ValueError unless both name one row of a key owner."""
    if old.table not in KEY_OWNERS or (old.table, old.row_id) != (new.table, new.row_id):
        raise ValueError("not a wrapped data key")
    return old.table


def secret_column(old: SealedSecret) -> str:
    """The user column a sealed secret is in; ValueError unless it is one of ``SECRET_COLUMNS``."""
    if old.column not in SECRET_COLUMNS:
        raise ValueError("not a sealed secret column")
    return old.column
