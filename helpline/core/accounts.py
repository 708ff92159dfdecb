"""Console accounts and sign-in sessions.

A session token is 256 random bits given to the browser once; the store keeps only its SHA-256, so a
copy of the database cannot be used to sign in. Sessions end after ``idle`` without use or ``absolute``
after sign-in, whichever comes first.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.ids import new_id
from helpline.core.models import ROLES, Role, Session, User
from helpline.core.ports import PasswordHasher, Store, Tx
from helpline.errors import Conflict, InvalidInput, NotSignedIn

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
# Sliding expiry is written back at most this often, so reading pages does not mean writing rows.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class SignedIn:
    """A new session: the token goes in the cookie, the CSRF token to the page."""

    token: str
    session: Session


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii", errors="replace")).digest()


class Accounts:
    """Creating accounts, signing in and out, and checking sessions."""

    def __init__(
        self,
        store: Store,
        passwords: PasswordHasher,
        clock: Clock,
        *,
        idle: timedelta,
        absolute: timedelta,
        min_password_chars: int,
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._clock = clock
        self._idle = idle
        self._absolute = absolute
        self._min_password_chars = min_password_chars

    async def add_user(self, username: str, role: str, password: str, actor: str = "system") -> User:
        """Create an account; the username must be new."""
        if not USERNAME.match(username):
            raise InvalidInput("A username is 2–32 lower-case letters, digits, dots, dashes or underscores.")
        if role not in ROLES:
            raise InvalidInput("The role must be volunteer, supervisor or admin.")
        if len(password) < self._min_password_chars:
            raise InvalidInput(f"A password must be at least {self._min_password_chars} characters.")
        checked_role: Role = "volunteer" if role == "volunteer" else "supervisor" if role == "supervisor" else "admin"
        user = User(new_id(), username, checked_role, False, await self._passwords.hash(password))
        now = self._clock.now()

        async def work(tx: Tx) -> None:
            if not await tx.users.insert(user, now):
                raise Conflict("That username is taken.")
            await tx.audit.append(AuditEntry(now, actor, Action.USER_ADDED, user.id, {"role": role}))

        await self._store.write(work)
        return user

    async def sign_in(self, username: str, password: str) -> SignedIn:
        """Check the password and open a session; the same answer for every kind of failure."""
        user = await self._store.read(lambda tx: tx.users.by_name(username))
        valid = await self._passwords.verify(user.password_hash if user else None, password)
        now = self._clock.now()
        if user is None or not valid or user.disabled:
            failed = AuditEntry(now, user.id if user else "unknown", Action.SIGN_IN_FAILED, None)
            await self._store.write(lambda tx: tx.audit.append(failed))
            raise NotSignedIn("Wrong username or password.")
        token = secrets.token_urlsafe(32)
        session = Session(token_hash(token), user, secrets.token_urlsafe(32), now, now)

        async def work(tx: Tx) -> None:
            await tx.sessions.insert(session)
            await tx.audit.append(AuditEntry(now, user.id, Action.SIGNED_IN, None))

        await self._store.write(work)
        return SignedIn(token, session)

    async def session(self, token: str) -> Session:
        """The live session for a cookie's token, or NotSignedIn."""
        hashed = token_hash(token)
        session = await self._store.read(lambda tx: tx.sessions.get(hashed))
        now = self._clock.now()
        if session is None:
            raise NotSignedIn("Please sign in.")
        expired = now - session.last_seen_at > self._idle or now - session.created_at > self._absolute
        if expired or session.user.disabled:
            await self._store.write(lambda tx: tx.sessions.delete(hashed))
            raise NotSignedIn("Your session has ended. Please sign in again.")
        if now - session.last_seen_at > TOUCH_EVERY:
            await self._store.write(lambda tx: tx.sessions.touch(hashed, now))
        return session

    async def sign_out(self, session: Session) -> None:
        now = self._clock.now()

        async def work(tx: Tx) -> None:
            await tx.sessions.delete(session.token_hash)
            await tx.audit.append(AuditEntry(now, session.user.id, Action.SIGNED_OUT, None))

        await self._store.write(work)
