"""The ``helpline`` subcommands of the data lifecycle: ``purge``, ``keys rotate|verify|retire``, ``records erase``.

Each runs against the instance's database and key file while the server may be running: writes go in small
transactions beside the server's, and the server notices a changed key file on its own. Each prints a
progress line per batch, so an operator sees it advance; each can be killed and run again.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

from helpline.app import Helpline
from helpline.cli_instance import run_on_store, settings_of
from helpline.crypto.keyring import LOOK_EVERY_SECONDS, Keyring
from helpline.errors import ConfigError, MasterKeyError
from helpline.settings import Settings
from helpline.store.postgres.instance_keys import PgInstanceKeys

ConfigOption = Callable[[argparse.ArgumentParser], None]


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser], config_option: ConfigOption) -> None:
    """Register ``purge``, ``keys`` and ``records`` on the ``helpline`` command."""
    purge = commands.add_parser("purge", help="remove everything past its retention period now (crypto-shredding)")
    config_option(purge)
    purge.set_defaults(run=_purge)

    keys = commands.add_parser("keys", help="rotate, verify and retire master key versions")
    key_commands = keys.add_subparsers(required=True, metavar="ACTION")
    rotate = key_commands.add_parser("rotate", help="add a master key version and rewrap everything under it")
    rotate.add_argument(
        "--wait-seconds",
        type=float,
        default=600.0,
        help="with instances sharing PostgreSQL: how long to wait for every one to hold the new version",
    )
    config_option(rotate)
    rotate.set_defaults(run=_keys_rotate)
    verify = key_commands.add_parser("verify", help="check that every wrapped key and sealed secret opens")
    config_option(verify)
    verify.set_defaults(run=_keys_verify)
    retire = key_commands.add_parser("retire", help="remove an old master key version that nothing uses any more")
    retire.add_argument("version", type=int)
    config_option(retire)
    retire.set_defaults(run=_keys_retire)

    records = commands.add_parser("records", help="consented records")
    record_commands = records.add_subparsers(required=True, metavar="ACTION")
    erase = record_commands.add_parser("erase", help="erase a record and its conversations, on the contact's request")
    erase.add_argument("record_id")
    config_option(erase)
    erase.set_defaults(run=_records_erase)


def _progress(what: str, count: int) -> None:
    print(f"progress: {what} {count}", flush=True)


def _purge(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    report = run_on_store(settings, lambda helpline: helpline.retention.purge(_progress))
    print(
        f"Purged: {report.conversations} transcripts, {report.records} records, {report.addresses} addresses,"
        f" {report.inbound_keys} idempotency keys, {report.blocks} ended blocks. The write-ahead log is truncated."
    )
    return 0


def _key_file(settings: Settings) -> Keyring:
    keyring = Keyring.load(settings.storage.key_file, settings.master_key)
    if keyring.source is None:
        raise ConfigError(
            "the master key comes from HELPLINE_MASTER_KEY; rotating or retiring writes the key file, so put the"
            " key in storage.key_file (mode 0600) instead, or change the variable yourself and run this again"
        )
    return keyring


def _keys_rotate(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    keyring = _key_file(settings)
    path = settings.storage.key_file

    async def rotate(helpline: Helpline) -> int:
        rotation = helpline.rotation
        instances = helpline.instance_keys
        if await rotation.unfinished():
            print(f"Resuming the rotation to master key version {keyring.current_version}.", flush=True)
            if instances is not None and not await _instances_use(instances, keyring.current_version, args):
                return 1
        elif instances is not None:
            # Instances share the database, each host with its own copy of the key file: the new version becomes
            # current only once every running instance can open what it seals.
            staged = keyring if keyring.newest_version > keyring.current_version else None
            if staged is None:
                staged = keyring.with_new_version(make_current=False)
                staged.write_replacing(path)
                print(f"Added master key version {staged.newest_version} to {path}, not yet current.", flush=True)
            version = staged.newest_version
            print(
                f"Copy {path} to every other host running helpline (same path, mode 0600); each running instance"
                " reads it within a second.",
                flush=True,
            )
            if not await _instances_use(instances, version, args, using=False):
                return 1
            staged.made_current(version).write_replacing(path)
            await rotation.announce(version)
            print(f"Master key version {version} is current.", flush=True)
            if not await _instances_use(instances, version, args):
                return 1
        else:
            added = keyring.with_new_version()
            added.write_replacing(path)
            print(f"Added master key version {added.current_version} to {path}; older versions are kept.", flush=True)
            # A running server looks at the key file at most every LOOK_EVERY_SECONDS: once this has passed
            # twice, it seals only under the new version, so nothing is missed by the rewrap below.
            await asyncio.sleep(2 * LOOK_EVERY_SECONDS)
        report = await rotation.run(_progress)
        print(
            f"Master key version {report.version}: {report.keys} data keys rewrapped, {report.secrets} secrets"
            f" resealed, {report.routes} routes re-keyed."
        )
        if report.failed:
            for name in report.failed:
                print(f"does not open: {name}", file=sys.stderr)
            print("Some keys could not be rewrapped; see `helpline keys verify`.", file=sys.stderr)
            return 1
        old = [v for v in Keyring.load(path).versions if v != report.version]
        if old:
            print(f"Nothing uses versions {', '.join(map(str, old))} now; remove them with `helpline keys retire N`.")
        return 0

    return run_on_store(settings, rotate)


async def _instances_use(
    instances: PgInstanceKeys, version: int, args: argparse.Namespace, *, using: bool = True
) -> bool:
    """Wait until every running instance holds ``version`` (and, with ``using``, wraps new keys with it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.wait_seconds
    said: list[str] | None = None
    while lagging := await instances.lagging(version, using=using):
        if lagging != said:
            verb = "to use" if using else "to hold"
            print(f"Waiting for {len(lagging)} instances {verb} version {version}: {', '.join(lagging)}", flush=True)
            said = lagging
        if loop.time() >= deadline:
            print(
                "Gave up waiting: copy the key file to those hosts, then run `helpline keys rotate` again.",
                file=sys.stderr,
            )
            return False
        await asyncio.sleep(0.5)
    return True


def _keys_verify(args: argparse.Namespace) -> int:
    result = run_on_store(settings_of(args), lambda helpline: helpline.rotation.verify())
    for version, count in sorted(result.opened.items()):
        print(f"master key version {version}: {count} keys and secrets open")
    for failure in result.failed:
        print(f"does not open: {failure}", file=sys.stderr)
    if result.failed:
        print(f"{len(result.failed)} wrapped keys or secrets do not open.", file=sys.stderr)
        return 1
    print("Every wrapped key and sealed secret opens.")
    return 0


def _keys_retire(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    keyring = _key_file(settings)
    version: int = args.version
    remaining = keyring.without_version(version)  # refuses the current version and one it does not hold

    async def retire(helpline: Helpline) -> int:
        keys, secrets = await helpline.rotation.still_using(version)
        if keys or secrets:
            raise MasterKeyError(
                f"{keys} data keys and {secrets} secrets are still under version {version};"
                " run `helpline keys rotate` to finish rewrapping them first"
            )
        await helpline.rotation.rekey_routes()
        remaining.write_replacing(settings.storage.key_file)
        await helpline.rotation.retired(version)
        return 0

    run_on_store(settings, retire)
    print(f"Retired master key version {version}: it is no longer in {settings.storage.key_file}.")
    print(
        "Made under it and no longer matched: idempotency keys of older inbound messages, thread keys of older"
        " email, blocks placed and record blind indexes made before the rotation (see SECURITY.md)."
    )
    return 0


def _records_erase(args: argparse.Namespace) -> int:
    erased = run_on_store(settings_of(args), lambda helpline: helpline.erasure.erase_as_operator(args.record_id))
    print(f"Erased record {erased.record_id} and {len(erased.conversations)} linked conversations.")
    for conversation_id, why in erased.held.items():
        reason = "still open" if why == "open" else "held for safeguarding"
        print(f"Kept conversation {conversation_id} ({reason}); retention removes it when that ends.")
    return 0
