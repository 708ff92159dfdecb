"""Who may do what, by role: the checks every core entry point makes before it touches anything.

Roles are held explicitly and none implies another. Volunteers and supervisors answer contacts and so read
conversations; supervisors also oversee (escalations, monitoring, blocks, disclosure); admins manage the
service (accounts, canned responses, opening hours, erasure) and read no conversation, transcript, flag,
record or address. An account that needs two of these holds both roles.
"""

from __future__ import annotations

from helpline.core.models import User
from helpline.errors import Forbidden


def require_reader(user: User) -> None:
    """A volunteer or supervisor: someone who may read conversations at all."""
    if not user.reads_conversations:
        raise Forbidden("Only volunteers and supervisors work with conversations; an admin account does not.")


def require_supervisor(user: User, what: str = "do this") -> None:
    if not user.is_supervisor:
        raise Forbidden(f"Only supervisors can {what}.")


def require_admin(user: User, what: str = "do this") -> None:
    if not user.is_admin:
        raise Forbidden(f"Only admins can {what}.")
