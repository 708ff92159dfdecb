"""Console accounts: creating them, signing in and out, two-factor sign-in, presence, and admin changes.

A session token is 256 random bits given to the browser once; the store keeps only its SHA-256, so a copy
of the database cannot be used to sign in. Sessions end after ``idle`` without use or ``absolute`` after
sign-in, whichever comes first.

An account holds one or more roles, explicitly: volunteer, supervisor, admin. An admin manages the service
and reads no conversation; an account that needs both holds both roles. Each account records who created
it, for dual control (core/disclosure.py).

Failed sign-ins are counted, delayed and locked per username and per network before any password is
checked (core/signin_limits.py); an unknown username gets exactly the answers an existing one would.

Two-factor sign-in is RFC 6238 TOTP. The seed is sealed under a server subkey; a code is accepted once
(the time step it belongs to is recorded and never accepted again). Replacing an enrolled second factor
needs its current code or the account's password, not only a session.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.events import StaffChanged
from helpline.core.ids import new_id
from helpline.core.models import AVAILABILITY, ROLES, Role, Session, User
from helpline.core.ports import Notifier, PasswordHasher, SecretBox, Store, Totp, Tx
from helpline.core.shift import starts_available
from helpline.core.signin_limits import SignInLimits
from helpline.errors import Conflict, Forbidden, InvalidInput, NotFound, NotSignedIn

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
# Sliding expiry is written back at most this often, so reading pages does not mean writing rows.
TOUCH_EVERY = timedelta(seconds=60)


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
    issuer: str


@dataclass(frozen=True)
class Account:
    """An account as the admin page lists it."""

    user: User
    locked: bool


@dataclass(frozen=True)
class Enrolment:
    secret: str = ""
    uri: str = ""


def check_roles(roles: str | Iterable[str]) -> frozenset[Role]:
    """The roles asked for (a list, or words in one string), each one known; at least one."""
    asked = set(roles.split() if isinstance(roles, str) else roles)
    if not asked or not asked <= set(ROLES):
        raise InvalidInput("Give one or more roles: volunteer, supervisor, admin.")
    return frozenset(role for role in ROLES if role in asked)


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
        limits: SignInLimits,
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._box = secrets_box
        self._totp = totp
        self._notifier = notifier
        self._clock = clock
        self._policy = policy
        self._limits = limits

    def must_enrol(self, user: User) -> bool:
        """The user's role needs two-factor sign-in and they have not set it up."""
        return any(role in self._policy.require_totp_for for role in user.roles) and not user.totp_enabled

    # -- accounts ------------------------------------------------------------------------------------------

    async def add_user(
        self, username: str, roles: str | Iterable[str], password: str, actor: str = "system", *, by: User | None = None
    ) -> User:
        """Create an account with these roles; the username must be new. ``by``: the admin creating it."""
        if not USERNAME.match(username):
            raise InvalidInput("A username is 2–32 lower-case letters, digits, dots, dashes or underscores.")
        checked = check_roles(roles)
        if len(password) < self._policy.min_password_chars:
            raise InvalidInput(f"A password must be at least {self._policy.min_password_chars} characters.")
        now = self._clock.now()
        user = User(
            new_id(),
            username,
            checked,
            False,
            await self._passwords.hash(password),
            created_at=now,
            created_by=by.id if by else None,
        )

        async def work(tx: Tx) -> None:
            if not await tx.users.insert(user, now):
                raise Conflict("That username is taken.")
            detail = {"roles": " ".join(user.role_names)}
            await tx.audit.append(AuditEntry(now, by.id if by else actor, Action.USER_ADDED, user.id, detail))

        await self._store.write(work)
        return user

    async def users(self, admin: User) -> list[Account]:
        _require_admin(admin)
        now = self._clock.now()

        async def work(tx: Tx) -> list[Account]:
            users = await tx.users.all()
            keys = {user.id: self._limits.name_key(user.username) for user in users}
            locked = await tx.signin_limits.locked(list(keys.values()), now)
            return [Account(user, keys[user.id] in locked) for user in users]

        return await self._store.read(work)

    async def create_with_generated_password(self, admin: User, username: str, roles: str | Iterable[str]) -> str:
        """An admin adds an account; the generated password is returned once."""
        _require_admin(admin)
        password = secrets.token_urlsafe(15)
        await self.add_user(username, roles, password, by=admin)
        return password

    async def set_roles(self, username: str, roles: str | Iterable[str], actor: str = "system") -> User:
        """Change an account's roles (the command line only: the operator's decision, audited)."""
        checked = check_roles(roles)
        now = self._clock.now()

        async def work(tx: Tx) -> User:
            user = await tx.users.by_name(username)
            if user is None:
                raise NotFound("There is no such account.")
            await tx.users.set_roles(user.id, checked)
            names = " ".join(role for role in ROLES if role in checked)
            await tx.audit.append(AuditEntry(now, actor, Action.USER_ROLES_CHANGED, user.id, {"roles": names}))
            fresh = await tx.users.get(user.id)
            assert fresh is not None  # noqa: S101 - read inside the same transaction
            return fresh

        fresh = await self._store.write(work)
        self._notifier.publish(StaffChanged(""))
        return fresh

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
            admin,
            username,
            Action.USER_UNLOCKED,
            lambda tx, user: tx.signin_limits.clear(self._limits.name_key(user.username)),
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

    async def sign_in(self, username: str, password: str, totp_code: str | None = None, network: str = "") -> SignedIn:
        """Count the attempt, then check the password (and code) and open a session.

        Every wrong password, unknown name or disabled account gets the same answer, after the same work (an
        unknown name is checked against a dummy hash). ``network``: the client's network, as text.
        """
        attempt = await self._limits.begin(username, network)
        user = await self._store.read(lambda tx: tx.users.by_name(username))
        valid = await self._passwords.verify(user.password_hash if user else None, password)
        if user is None or not valid or user.disabled:
            await self._limits.failed(attempt, user)
            raise NotSignedIn("Wrong username or password.")
        if user.totp_enabled:
            if not totp_code:
                await self._limits.uncount(attempt)
                raise NotSignedIn("Enter the 6-digit code from your authenticator app.", totp_required=True)
            if not await self._accept_code(user, totp_code, self._clock.now()):
                await self._limits.failed(attempt, user)
                raise NotSignedIn("That code is wrong or has already been used.", totp_required=True)
        token = secrets.token_urlsafe(32)
        now = self._clock.now()

        async def work(tx: Tx) -> Session:
            # A lock set by a concurrent wrong guess stands, even against the right password.
            await self._limits.succeeded_in(tx, attempt, now)
            if user.reads_conversations:
                # A span left open by a session that expired ends here; reports count it at most one session long.
                await tx.reports.record_availability(user.id, False, now)
                # Volunteers are Available at once; supervisors choose Available when they take conversations.
                await tx.users.set_availability(user.id, "available" if starts_available(user) else "away")
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
            await tx.users.set_availability(session.user.id, "offline")
            await tx.reports.record_availability(session.user.id, False, now)
            await tx.audit.append(AuditEntry(now, session.user.id, Action.SIGNED_OUT, None))

        await self._store.write(work)
        self._notifier.publish(StaffChanged(""))

    # -- two-factor enrolment ------------------------------------------------------------------------------

    async def enrol_totp(self, user: User, *, code: str = "", password: str = "", network: str = "") -> Enrolment:
        """Start (or restart) enrolment with a new secret; it counts only once a code confirms it.

        With a second factor already on, a session alone is not enough: the current code or the password must
        be given (a wrong one counts as a failed sign-in).
        """
        if user.totp_enabled:
            await self._prove(user, code, password, network)
        secret = self._totp.new_secret()
        sealed = self._box.seal(f"users|{user.id}|totp_pending", secret)
        await self._store.write(lambda tx: tx.users.set_totp_pending(user.id, sealed))
        return Enrolment(secret, self._totp.uri(secret, user.username, self._policy.issuer))

    async def _prove(self, user: User, code: str, password: str, network: str) -> None:
        if not code and not password:
            raise Forbidden(
                "To replace your two-factor sign-in, give the current code from your app or your password.",
                proof_required=True,
            )
        attempt = await self._limits.begin(user.username, network)
        if code:
            valid = await self._accept_code(user, code, self._clock.now())
        else:
            valid = await self._passwords.verify(user.password_hash, password)
        if not valid:
            await self._limits.failed(attempt, user)
            raise Forbidden("That code or password is wrong.", proof_required=True)
        await self._limits.uncount(attempt)

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
            before = await tx.users.get(user.id)
            replaced = before is not None and before.totp_enabled
            await tx.users.set_totp_pending(user.id, sealed)
            if not await tx.users.confirm_totp(user.id, step):
                raise Conflict("Start two-factor enrolment again.")
            action = Action.TOTP_REENROLLED if replaced else Action.TOTP_ENROLLED
            await tx.audit.append(AuditEntry(now, user.id, action, user.id))
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
