"""Changing passwords: an admin resets one (the new one is shown once), and every user changes their own.

A user changing their own password gives the current one and, when they have two-factor sign-in, a code from
their app: a session left open on a shared machine is not enough to take the account. Either way every other
session of the account ends, and the change is audited (never the password).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.models import Session, User
from helpline.core.ports import PasswordHasher, Store, Tx
from helpline.errors import Forbidden, InvalidInput, NotFound

MAX_PASSWORD_CHARS = 1024


class PasswordChanges:
    def __init__(
        self,
        store: Store,
        passwords: PasswordHasher,
        clock: Clock,
        *,
        min_chars: int,
        check_code: Callable[[User, str, datetime], Awaitable[bool]],
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._clock = clock
        self._min_chars = min_chars
        self._check_code = check_code

    async def reset(self, admin: User, username: str) -> str:
        """An admin gives an account a new generated password, returned once; its sessions end."""
        if not admin.is_admin:
            raise Forbidden("Only admins can reset passwords.")
        password = secrets.token_urlsafe(15)
        await self.set_for(username, password, actor=admin.id)
        return password

    async def set_for(self, username: str, password: str, *, actor: str = "system") -> None:
        """Give the named account this password (the CLI, or an admin's reset); its sessions end."""
        self._check(password)
        hashed = await self._passwords.hash(password)
        now = self._clock.now()

        async def work(tx: Tx) -> None:
            user = await tx.users.by_name(username)
            if user is None:
                raise NotFound("There is no such account.")
            await tx.users.set_password_hash(user.id, hashed)
            await tx.sessions.delete_for_user(user.id, None)
            await tx.audit.append(AuditEntry(now, actor, Action.PASSWORD_RESET, user.id))

        await self._store.write(work)

    async def change_own(self, session: Session, current: str, new: str, code: str | None) -> None:
        """The user changes their own password: the current one, and a code if they use two-factor sign-in."""
        user = session.user
        now = self._clock.now()
        if not await self._passwords.verify(user.password_hash, current):
            # 403, not 401: the session is fine, only this proof is wrong.
            raise Forbidden("Your current password is not right.")
        if user.totp_enabled and not (code and await self._check_code(user, code, now)):
            raise Forbidden("Enter a current code from your authenticator app.", totp_required=True)
        if new == current:
            raise InvalidInput("Choose a password different from the current one.")
        self._check(new)
        hashed = await self._passwords.hash(new)

        async def work(tx: Tx) -> None:
            await tx.users.set_password_hash(user.id, hashed)
            await tx.sessions.delete_for_user(user.id, session.token_hash)  # this session stays signed in
            await tx.audit.append(AuditEntry(now, user.id, Action.PASSWORD_CHANGED, user.id))

        await self._store.write(work)

    def _check(self, password: str) -> None:
        if len(password) < self._min_chars:
            raise InvalidInput(f"A password must be at least {self._min_chars} characters.")
        if len(password) > MAX_PASSWORD_CHARS:
            raise InvalidInput(f"A password can be at most {MAX_PASSWORD_CHARS} characters.")
