"""Console accounts: creating them, signing in and out, two-factor sign-in, presence, and admin changes.

A session token is 256 random bits given to the browser once; the store keeps only its SHA-256, so a copy
of the database cannot be used to sign in. Sessions end after ``idle`` without use or ``absolute`` after
sign-in, whichever comes first.

Failed sign-ins are counted per account. After ``throttle_after`` failures, each further attempt must
wait ``throttle_base × 2^(failures − throttle_after)`` seconds (capped at 15 minutes) after the last
failure — before the password is even checked, so waiting cannot be skipped by guessing faster. At
``lock_after`` failures the account locks until an admin unlocks it. A success resets the count.

Two-factor sign-in is RFC 6238 TOTP. The seed is sealed under a server subkey; a code is accepted once
(the time step it belongs to is recorded and never accepted again).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.events import StaffChanged
from helpline.core.ids import new_id
from helpline.core.models import AVAILABILITY, ROLES, Role, Session, User
from helpline.core.ports import Notifier, PasswordHasher, SecretBox, Store, Totp, Tx
from helpline.core.shift import starts_available
from helpline.errors import Conflict, Forbidden, InvalidInput, Locked, NotFound, NotSignedIn, TooManyRequests

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
# Sliding expiry is written back at most this often, so reading pages does not mean writing rows.
TOUCH_EVERY = timedelta(seconds=60)
MAX_THROTTLE = timedelta(minutes=15)


@dataclass(frozen=True)
class SignedIn:
    """A new session: the token goes in the cookie, the CSRF token to the page."""

    token: str
    session: Session


@dataclass(frozen=True)
class SignInPolicy:
    idle: timedelta
    absolute: timedelta
    min_password_chars: int
    require_totp_for: Sequence[str]
    throttle_after: int
    throttle_base: timedelta
    lock_after: int
    issuer: str


@dataclass(frozen=True)
class Enrolment:
    secret: str = ""
    uri: str = ""


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii", errors="replace")).digest()


class Accounts:
    """Accounts, sessions, two-factor sign-in and presence."""

    def __init__(
        self,
        store: Store,
        passwords: PasswordHasher,
        secrets_box: SecretBox,
        totp: Totp,
        notifier: Notifier,
        clock: Clock,
        policy: SignInPolicy,
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._box = secrets_box
        self._totp = totp
        self._notifier = notifier
        self._clock = clock
        self._policy = policy

    def must_enrol(self, user: User) -> bool:
        """The user's role needs two-factor sign-in and they have not set it up."""
        return user.role in self._policy.require_totp_for and not user.totp_enabled

    # -- accounts ------------------------------------------------------------------------------------------

    async def add_user(self, username: str, role: str, password: str, actor: str = "system") -> User:
        """Create an account; the username must be new."""
        if not USERNAME.match(username):
            raise InvalidInput("A username is 2–32 lower-case letters, digits, dots, dashes or underscores.")
        if role not in ROLES:
            raise InvalidInput("The role must be volunteer, supervisor or admin.")
        if len(password) < self._policy.min_password_chars:
            raise InvalidInput(f"A password must be at least {self._policy.min_password_chars} characters.")
        checked_role: Role = "volunteer" if role == "volunteer" else "supervisor" if role == "supervisor" else "admin"
        user = User(new_id(), username, checked_role, False, await self._passwords.hash(password))
        now = self._clock.now()

        async def work(tx: Tx) -> None:
            if not await tx.users.insert(user, now):
                raise Conflict("That username is taken.")
            await tx.audit.append(AuditEntry(now, actor, Action.USER_ADDED, user.id, {"role": role}))

        await self._store.write(work)
        return user

    async def users(self, admin: User) -> list[User]:
        _require_admin(admin)
        return await self._store.read(lambda tx: tx.users.all())

    async def create_with_generated_password(self, admin: User, username: str, role: str) -> str:
        """An admin adds an account; the generated password is returned once."""
        _require_admin(admin)
        password = secrets.token_urlsafe(15)
        await self.add_user(username, role, password, actor=admin.id)
        return password

    async def set_disabled(self, admin: User, username: str, disabled: bool) -> None:
        _require_admin(admin)
        if username == admin.username and disabled:
            raise InvalidInput("You cannot disable your own account.")
        action = Action.USER_DISABLED if disabled else Action.USER_ENABLED
        now = self._clock.now()

        async def change(tx: Tx, user: User) -> None:
            await tx.users.set_disabled(user.id, disabled)
            if disabled:  # a disabled account is offline: its availability span ends
                await tx.reports.record_availability(user.id, False, now)

        await self._admin_change(admin, username, action, change)

    async def reset_totp(self, admin: User, username: str) -> None:
        _require_admin(admin)
        await self._admin_change(admin, username, Action.TOTP_RESET, lambda tx, user: tx.users.reset_totp(user.id))

    async def unlock(self, admin: User, username: str) -> None:
        _require_admin(admin)
        await self._admin_change(
            admin, username, Action.USER_UNLOCKED, lambda tx, user: tx.users.clear_failures(user.id)
        )

    async def _admin_change(
        self, admin: User, username: str, action: Action, change: Callable[[Tx, User], Awaitable[None]]
    ) -> None:
        now = self._clock.now()

        async def work(tx: Tx) -> None:
            user = await tx.users.by_name(username)
            if user is None:
                raise NotFound("There is no such account.")
            await change(tx, user)
            await tx.audit.append(AuditEntry(now, admin.id, action, user.id))

        await self._store.write(work)
        self._notifier.publish(StaffChanged(""))

    # -- signing in ----------------------------------------------------------------------------------------

    async def sign_in(self, username: str, password: str, totp_code: str | None = None) -> SignedIn:
        """Check the password (and code), and open a session; the same answer for every wrong password."""
        user = await self._store.read(lambda tx: tx.users.by_name(username))
        now = self._clock.now()
        if user is not None and user.locked:
            raise Locked("This account is locked after too many failed sign-ins. Ask an admin to unlock it.")
        if user is not None:
            wait = self._throttle(user, now)
            if wait > 0:
                raise TooManyRequests(f"Too many failed sign-ins. Try again in {wait} seconds.", retry_after=wait)
        valid = await self._passwords.verify(user.password_hash if user else None, password)
        if user is None or not valid or user.disabled:
            await self._failed(user, now)
            raise NotSignedIn("Wrong username or password.")
        if user.totp_enabled:
            if not totp_code:
                raise NotSignedIn("Enter the 6-digit code from your authenticator app.", totp_required=True)
            if not await self._accept_code(user, totp_code, now):
                await self._failed(user, now)
                raise NotSignedIn("That code is wrong or has already been used.", totp_required=True)
        token = secrets.token_urlsafe(32)

        async def work(tx: Tx) -> Session:
            await tx.users.clear_failures(user.id)
            await tx.users.set_availability(user.id, "available" if starts_available(user) else "away")
            # A span left open by a session that expired ends here; reports count it at most one session long.
            await tx.reports.record_availability(user.id, False, now)
            if starts_available(user):
                await tx.reports.record_availability(user.id, True, now)
            fresh = await tx.users.get(user.id)
            assert fresh is not None  # noqa: S101 - read inside the same transaction
            session = Session(token_hash(token), fresh, secrets.token_urlsafe(32), now, now)
            await tx.sessions.insert(session)
            await tx.audit.append(AuditEntry(now, user.id, Action.SIGNED_IN, None))
            return session

        session = await self._store.write(work)
        self._notifier.publish(StaffChanged(""))
        return SignedIn(token, session)

    def _throttle(self, user: User, now: datetime) -> int:
        """Seconds the user must still wait before trying again."""
        excess = user.failed_logins - self._policy.throttle_after
        if excess < 0 or user.last_failed_at is None:
            return 0
        delay = min(self._policy.throttle_base * (1 << min(excess, 20)), MAX_THROTTLE)
        remaining = (user.last_failed_at + delay - now).total_seconds()
        return max(0, int(remaining + 0.999))

    async def _failed(self, user: User | None, now: datetime) -> None:
        lock_after = self._policy.lock_after

        async def work(tx: Tx) -> None:
            if user is not None:
                await tx.users.record_failure(user.id, now, lock_after)
                if user.failed_logins + 1 >= lock_after:
                    await tx.audit.append(AuditEntry(now, user.id, Action.ACCOUNT_LOCKED, user.id))
            await tx.audit.append(AuditEntry(now, user.id if user else "unknown", Action.SIGN_IN_FAILED, None))

        await self._store.write(work)

    async def accept_code(self, user: User, code: str, now: datetime) -> bool:
        """Whether ``code`` is a current, unused code from the user's authenticator app (it is used up)."""
        return await self._accept_code(user, code, now)

    async def _accept_code(self, user: User, code: str, now: datetime) -> bool:
        sealed, _, _ = await self._store.read(lambda tx: tx.users.totp(user.id))
        if sealed is None:
            return False
        step = self._totp.match(self._box.open(f"users|{user.id}|totp_secret", sealed), code, now)
        if step is None:
            return False
        return await self._store.write(lambda tx: tx.users.use_totp_step(user.id, step))

    async def session(self, token: str) -> Session:
        """The live session for a cookie's token, or NotSignedIn."""
        hashed = token_hash(token)
        session = await self._store.read(lambda tx: tx.sessions.get(hashed))
        now = self._clock.now()
        if session is None:
            raise NotSignedIn("Please sign in.")
        expired = now - session.last_seen_at > self._policy.idle or now - session.created_at > self._policy.absolute
        if expired or session.user.disabled or session.user.locked:
            await self._store.write(lambda tx: tx.sessions.delete(hashed))
            raise NotSignedIn("Your session has ended. Please sign in again.")
        if now - session.last_seen_at > TOUCH_EVERY:
            await self._store.write(lambda tx: tx.sessions.touch(hashed, now))
        return session

    async def sign_out(self, session: Session) -> None:
        now = self._clock.now()

        async def work(tx: Tx) -> None:
            await tx.sessions.delete(session.token_hash)
            await tx.users.set_availability(session.user.id, "offline")
            await tx.reports.record_availability(session.user.id, False, now)
            await tx.audit.append(AuditEntry(now, session.user.id, Action.SIGNED_OUT, None))

        await self._store.write(work)
        self._notifier.publish(StaffChanged(""))

    # -- two-factor enrolment ------------------------------------------------------------------------------

    async def enrol_totp(self, user: User) -> Enrolment:
        """Start (or restart) enrolment with a new secret; it counts only once a code confirms it."""
        secret = self._totp.new_secret()
        sealed = self._box.seal(f"users|{user.id}|totp_pending", secret)
        await self._store.write(lambda tx: tx.users.set_totp_pending(user.id, sealed))
        return Enrolment(secret, self._totp.uri(secret, user.username, self._policy.issuer))

    async def pending_totp(self, user: User) -> Enrolment:
        """The enrolment in progress, for the QR code."""
        _, pending, _ = await self._store.read(lambda tx: tx.users.totp(user.id))
        if pending is None:
            raise NotFound("Start two-factor enrolment first.")
        secret = self._box.open(f"users|{user.id}|totp_pending", pending)
        return Enrolment(secret, self._totp.uri(secret, user.username, self._policy.issuer))

    async def confirm_totp(self, user: User, code: str) -> User:
        """Turn two-factor sign-in on once a code from the new secret matches."""
        enrolment = await self.pending_totp(user)
        now = self._clock.now()
        step = self._totp.match(enrolment.secret, code, now)
        if step is None:
            raise InvalidInput("That code does not match. Check the time on your phone and try the next code.")
        sealed = self._box.seal(f"users|{user.id}|totp_secret", enrolment.secret)

        async def work(tx: Tx) -> User:
            await tx.users.set_totp_pending(user.id, sealed)
            if not await tx.users.confirm_totp(user.id, step):
                raise Conflict("Start two-factor enrolment again.")
            await tx.audit.append(AuditEntry(now, user.id, Action.TOTP_ENROLLED, user.id))
            fresh = await tx.users.get(user.id)
            assert fresh is not None  # noqa: S101 - read inside the same transaction
            return fresh

        return await self._store.write(work)

    # -- presence ------------------------------------------------------------------------------------------

    async def set_availability(self, user: User, availability: str) -> User:
        if availability not in AVAILABILITY:
            raise InvalidInput("Availability is available, away or offline.")
        now = self._clock.now()

        async def work(tx: Tx) -> User:
            await tx.users.set_availability(user.id, availability)
            await tx.reports.record_availability(user.id, availability == "available", now)
            await tx.audit.append(
                AuditEntry(now, user.id, Action.AVAILABILITY_CHANGED, user.id, {"availability": availability})
            )
            fresh = await tx.users.get(user.id)
            assert fresh is not None  # noqa: S101 - read inside the same transaction
            return fresh

        fresh = await self._store.write(work)
        self._notifier.publish(StaffChanged(""))
        return fresh


def _require_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("Only admins can manage accounts.")
