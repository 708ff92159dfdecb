"""Master key rotation: moving everything the master key protects onto its newest version, and checking it.

``helpline keys rotate`` first adds a version to the key file (atomically, keeping the old ones); the running
server notices the new current version on its next use of the keyring and wraps new keys with it. Then
``KeyRotation.run``, in small batches while the server keeps running:

1. re-keys the routing pseudonym of every open conversation (recomputed from its vault entry) and any
   block made on it, so open conversations keep routing after the old version is retired;
2. rewraps every conversation's and record's data key under the new version — each update only if the
   stored key is unchanged, so a row shredded or rewrapped meanwhile is left alone;
3. reseals every server secret (TOTP seeds);
4. rewraps again whatever a server that had not yet noticed the new version wrapped under an old one;
5. records the version as fully in use.

A rotation killed at any point is finished by running the command again: ``unfinished`` sees data keys or
secrets still under an older version (or no completion mark) and the same steps run, skipping what is done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from helpline.audit.events import Action, AuditEntry
from helpline.clock import Clock
from helpline.core.models import KeyRef, RouteEntry, SealedSecret
from helpline.core.ports import Cipher, KeyWrapping, Pseudonymizer, Resealer, Store, Tx
from helpline.errors import CryptoError, MasterKeyError

SYSTEM = "system"
Progress = Callable[[str, int], None]


@dataclass
class RotationReport:
    """What a rotation (or a verification) found and did."""

    version: int
    keys: int = 0
    secrets: int = 0
    routes: int = 0
    failed: list[str] = field(default_factory=list)


@dataclass
class Verification:
    """Every wrapped key and sealed secret tried: how many opened under each version, and which did not."""

    opened: dict[int, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)


class KeyRotation:
    def __init__(
        self,
        store: Store,
        keys: KeyWrapping,
        box: Resealer,
        cipher: Cipher,
        pseudonyms: Pseudonymizer,
        clock: Clock,
        *,
        batch_size: int,
    ) -> None:
        self._store = store
        self._keys = keys
        self._box = box
        self._cipher = cipher
        self._pseudonyms = pseudonyms
        self._clock = clock
        self._batch = batch_size

    async def unfinished(self) -> bool:
        """True when a rotation to the current version was started and not completed."""
        version = self._keys.current_version

        async def work(tx: Tx) -> bool:
            marks = {v.version: v for v in await tx.keys.versions()}
            if version in marks and marks[version].rewrapped_at is None:
                return True
            if await tx.keys.wrapped(None, 1, version):
                return True
            return any(self._box.version_of(s.sealed) != version for s in await tx.keys.secrets())

        return await self._store.read(work)

    async def announce(self, version: int) -> None:
        """Record ``version`` as added: where instances share the database, each uses it from then on."""
        await self._store.write(lambda tx: tx.keys.version_added(version, self._clock.now()))

    async def run(self, progress: Progress | None = None) -> RotationReport:
        """Move every data key, secret and open route onto the current master key version."""
        report = RotationReport(self._keys.current_version)
        started = self._clock.now()
        await self._store.write(lambda tx: tx.keys.version_added(report.version, started))
        report.routes = await self.rekey_routes(progress)
        await self._rewrap(report, progress)
        await self._reseal(report)
        await self._rewrap(report, progress)
        if not report.failed:
            now = self._clock.now()
            detail = {
                "version": str(report.version),
                "keys": str(report.keys),
                "secrets": str(report.secrets),
                "routes": str(report.routes),
            }

            async def finish(tx: Tx) -> None:
                await tx.keys.version_rewrapped(report.version, now)
                await tx.audit.append(AuditEntry(now, SYSTEM, Action.KEYS_ROTATED, None, detail))

            await self._store.write(finish)
        return report

    async def rekey_routes(self, progress: Progress | None = None) -> int:
        """Recompute every open conversation's route pseudonym under the current version; how many moved."""
        moved = 0
        after: str | None = None
        while True:
            entries = await self._routes_after(after)
            changes: list[tuple[str, bytes, bytes]] = []
            for entry in entries:
                try:
                    address = self._cipher.open(
                        entry.key, "vault", entry.conversation_id, "address", entry.sealed_address
                    )
                except (CryptoError, MasterKeyError):
                    continue  # reported by `keys verify`; the old pseudonym keeps matching until retirement
                new = self._pseudonyms.route(entry.channel, address)
                if new != entry.pseudonym:
                    changes.append((entry.conversation_id, entry.pseudonym, new))
            if changes:

                async def work(tx: Tx, changes: list[tuple[str, bytes, bytes]] = changes) -> int:
                    return sum([await tx.keys.rekey_route(cid, old, new) for cid, old, new in changes])

                moved += await self._store.write(work)
                if progress is not None:
                    progress("routes", moved)
            if len(entries) < self._batch:
                return moved
            after = entries[-1].conversation_id

    async def verify(self) -> Verification:
        """Try every wrapped data key and sealed secret afresh, naming the ones that do not open."""
        result = Verification()
        after: tuple[str, str] | None = None
        while True:
            batch = await self._wrapped_after(after, None)
            for key in batch:
                problem = self._problem(partial(self._keys.check, key))
                self._count(result, key.kek_version, f"{key.table} {key.row_id}", problem)
            if len(batch) < self._batch:
                break
            after = (batch[-1].table, batch[-1].row_id)
        for secret in await self._store.read(lambda tx: tx.keys.secrets()):
            problem = self._problem(partial(self._box.open, secret.context, secret.sealed))
            self._count(result, self._version_of(secret), f"users {secret.user_id} {secret.column}", problem)
        return result

    async def still_using(self, version: int) -> tuple[int, int]:
        """How many data keys, and how many secrets, are still wrapped or sealed under ``version``."""

        async def work(tx: Tx) -> tuple[int, int]:
            keys = await tx.keys.count_wrapped(version)
            secrets = sum(1 for s in await tx.keys.secrets() if self._version_of(s) == version)
            # Messages accepted but not yet routed are sealed too: retiring their version would lose them.
            accepted = sum(1 for sealed in await tx.intake.sealed() if self._box.version_of(sealed) == version)
            return keys, secrets + accepted

        return await self._store.read(work)

    async def retired(self, version: int) -> None:
        """Record that a version was removed from the key file."""
        now = self._clock.now()

        async def work(tx: Tx) -> None:
            await tx.keys.version_retired(version, now)
            await tx.audit.append(AuditEntry(now, SYSTEM, Action.KEY_RETIRED, None, {"version": str(version)}))

        await self._store.write(work)

    async def _rewrap(self, report: RotationReport, progress: Progress | None) -> None:
        after: tuple[str, str] | None = None
        while True:
            batch = await self._wrapped_after(after, report.version)
            pairs: list[tuple[KeyRef, KeyRef]] = []
            for key in batch:
                try:
                    pairs.append((key, self._keys.rewrap(key)))
                except (CryptoError, MasterKeyError):
                    report.failed.append(f"{key.table} {key.row_id}")
            if pairs:

                async def work(tx: Tx, pairs: list[tuple[KeyRef, KeyRef]] = pairs) -> int:
                    return sum([await tx.keys.replace_wrapped(old, new) for old, new in pairs])

                report.keys += await self._store.write(work)
                if progress is not None:
                    progress("keys", report.keys)
            if len(batch) < self._batch:
                return
            after = (batch[-1].table, batch[-1].row_id)

    async def _reseal(self, report: RotationReport) -> None:
        stale = [
            s for s in await self._store.read(lambda tx: tx.keys.secrets()) if self._version_of(s) != report.version
        ]
        pairs: list[tuple[SealedSecret, bytes]] = []
        for secret in stale:
            try:
                pairs.append((secret, self._box.reseal(secret.context, secret.sealed)))
            except (CryptoError, MasterKeyError):
                report.failed.append(f"users {secret.user_id} {secret.column}")

        async def work(tx: Tx) -> int:
            return sum([await tx.keys.replace_secret(old, sealed) for old, sealed in pairs])

        if pairs:
            report.secrets += await self._store.write(work)

    async def _routes_after(self, after: str | None) -> list[RouteEntry]:
        return await self._store.read(lambda tx: tx.keys.routes(after, self._batch))

    async def _wrapped_after(self, after: tuple[str, str] | None, not_version: int | None) -> list[KeyRef]:
        return await self._store.read(lambda tx: tx.keys.wrapped(after, self._batch, not_version))

    def _version_of(self, secret: SealedSecret) -> int:
        try:
            return self._box.version_of(secret.sealed)
        except CryptoError:
            return 0

    @staticmethod
    def _problem(attempt: Callable[[], object]) -> str | None:
        try:
            attempt()
        except MasterKeyError:
            return "its master key version is not in the key file"
        except CryptoError:
            return "it does not authenticate (altered, moved, or a different master key)"
        return None

    @staticmethod
    def _count(result: Verification, version: int, name: str, problem: str | None) -> None:
        if problem is None:
            result.opened[version] = result.opened.get(version, 0) + 1
        else:
            result.failed.append(f"{name}: {problem}")
