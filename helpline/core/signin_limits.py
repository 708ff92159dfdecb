"""Sign-in throttling: per username and per network, counted before each password is checked.

Every attempt is counted first, in one atomic statement (``SignInLimitRepo.count``), and only an attempt
that was counted is checked. So sign-ins sent at once are checked at most ``lock_after`` times for one
username, however many arrive together; the rest are refused without being checked.

- **Per username** — existing or not: an unknown name is counted, delayed, locked and answered exactly as an
  existing one, so the answers do not tell which names exist. After ``throttle_after`` failures in the
  window, each further attempt must wait ``throttle_base × 2^(failures − throttle_after)`` (at most 15
  minutes) after the last failure. The attempt that makes ``lock_after`` locks the name for ``lock_for``,
  if it fails; the lock is written by one conditional update, and the one attempt whose update set it writes
  the ``auth.account_locked`` audit entry. A lock ends by itself (or an admin lifts it); a right password
  does not lift it. Failures are counted in a window of ``lock_for`` from the first one; after that the
  count starts again.
- **Per network** (an IPv4 /24, an IPv6 /48) — at most ``network_failures`` failures in
  ``network_window``, whatever the usernames, then the network is refused until the window ends. A right
  password takes its own attempt back, so an office whose staff mistype now and then is not shut out. With
  ``network_failures`` below half of ``lock_after``, one network alone can never lock an account.

Counters are keyed by keyed HMACs of the username and of the network: neither is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.models import SignInLimit, User
from helpline.core.ports import Pseudonymizer, Store, Tx
from helpline.errors import Locked, TooManyRequests

MAX_THROTTLE = timedelta(minutes=15)


@dataclass(frozen=True)
class LimitPolicy:
    throttle_after: int
    throttle_base: timedelta
    lock_after: int
    lock_for: timedelta
    network_failures: int
    network_window: timedelta


@dataclass(frozen=True)
class Attempt:
    """One counted sign-in attempt: the keys it was counted under, and the username's count with it."""

    name_key: bytes
    network_key: bytes
    count: int


class SignInLimits:
    """Counts, delays and locks sign-in attempts; see the module docstring for the rules."""

    def __init__(self, store: Store, pseudonyms: Pseudonymizer, clock: Clock, policy: LimitPolicy) -> None:
        self._store = store
        self._pseudonyms = pseudonyms
        self._clock = clock
        self._policy = policy

    def name_key(self, username: str) -> bytes:
        return self._pseudonyms.sign_in("name", username)

    async def begin(self, username: str, network: str) -> Attempt:
        """Count an attempt against its network and its username, or refuse it unchecked (429 or 423)."""
        policy = self._policy
        now = self._clock.now()
        name_key = self.name_key(username)
        network_key = self._pseudonyms.sign_in("network", network)
        oldest = now - max(policy.lock_for, policy.network_window, MAX_THROTTLE)

        async def work(tx: Tx) -> Attempt:
            await tx.signin_limits.forget(oldest, now)
            limits = tx.signin_limits
            if await limits.count(network_key, now, now - policy.network_window, policy.network_failures) is None:
                raise self._network_refusal(await limits.get(network_key), now)
            count = await limits.count(name_key, now, now - policy.lock_for, policy.lock_after)
            if count is None:
                # Raising undoes this unit's changes: the network's count too, as nothing was checked.
                raise self._name_refusal(await limits.get(name_key), now)
            return Attempt(name_key, network_key, count)

        return await self._store.write(work)

    async def failed(self, attempt: Attempt, user: User | None) -> None:
        """The attempt failed: delay the next one, lock the name at the limit, and audit both."""
        policy = self._policy
        now = self._clock.now()

        async def work(tx: Tx) -> None:
            excess = attempt.count - policy.throttle_after
            if excess >= 0:
                delay = min(policy.throttle_base * (1 << min(excess, 20)), MAX_THROTTLE)
                await tx.signin_limits.delay(attempt.name_key, now + delay)
            if attempt.count >= policy.lock_after:
                locked = await tx.signin_limits.lock(attempt.name_key, now + policy.lock_for, policy.lock_after)
                if locked and user is not None:
                    minutes = policy.lock_for.total_seconds() / 60
                    await tx.audit.append(
                        AuditEntry(now, user.id, Action.ACCOUNT_LOCKED, user.id, {"minutes": f"{minutes:g}"})
                    )
            await tx.audit.append(AuditEntry(now, user.id if user else "unknown", Action.SIGN_IN_FAILED, None))

        await self._store.write(work)

    async def uncount(self, attempt: Attempt) -> None:
        """The attempt was neither a failure nor a sign-in (the password was right; a code is still needed)."""

        async def work(tx: Tx) -> None:
            await tx.signin_limits.take_back(attempt.name_key)
            await tx.signin_limits.take_back(attempt.network_key)

        await self._store.write(work)

    async def succeeded_in(self, tx: Tx, attempt: Attempt, now: datetime) -> None:
        """Within the sign-in's transaction: forget the name's failures, unless a lock came meanwhile."""
        if not await tx.signin_limits.clear_unless_locked(attempt.name_key, now):
            raise self._name_refusal(await tx.signin_limits.get(attempt.name_key), now)
        await tx.signin_limits.take_back(attempt.network_key)

    def _network_refusal(self, limit: SignInLimit | None, now: datetime) -> TooManyRequests:
        ends = limit.window_start + self._policy.network_window if limit else now
        wait = _seconds(ends - now)
        return TooManyRequests(
            f"Too many failed sign-ins from your network. Try again in {wait} seconds.", retry_after=wait
        )

    def _name_refusal(self, limit: SignInLimit | None, now: datetime) -> TooManyRequests | Locked:
        if limit is not None and limit.locked_until is None and limit.retry_at is not None and limit.retry_at > now:
            wait = _seconds(limit.retry_at - now)
            return TooManyRequests(f"Too many failed sign-ins. Try again in {wait} seconds.", retry_after=wait)
        # Locked, or at the limit with the attempt that reached it still being checked.
        until = limit.locked_until if limit is not None and limit.locked_until else now + self._policy.lock_for
        minutes = max(1, -(-_seconds(until - now) // 60))
        return Locked(
            f"This account is locked after too many failed sign-ins. Try again in {minutes} minutes,"
            " or ask an admin to unlock it.",
            retry_after=_seconds(until - now),
        )


def _seconds(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() + 0.999))
