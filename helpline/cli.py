"""The ``helpline`` command: init, serve, user, audit, simulate, bench, report, deploy."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
from collections.abc import Awaitable, Sequence
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import aiohttp
import aiosmtplib
from twilio.request_validator import RequestValidator

from helpline import cli_lifecycle as lifecycle_commands
from helpline import cli_report as report_command
from helpline import cli_storage as storage_commands
from helpline import log
from helpline import settings as settings_module
from helpline.app import Helpline, build, build_app, open_store
from helpline.audit.chain import GENESIS, StoredAuditRow, first_bad
from helpline.bench import command as bench_command
from helpline.channels.sms.webhook import normalise_sender
from helpline.cli_instance import run_on_store, settings_of
from helpline.clock import SystemClock
from helpline.core.models import User
from helpline.crypto.keyring import Keyring
from helpline.deploy import command as deploy_command
from helpline.errors import HelplineError, PublicError
from helpline.loops import freeze_after_start, new_event_loop
from helpline.store.postgres.database import PostgresStore
from helpline.web import serving

DEFAULT_CONFIG = Path("var/helpline.toml")

INSTANCE_TEMPLATE = """\
# This helpline instance's settings. Every setting, with its meaning, is in config/default.toml;
# what is set here overrides it. Paths are relative to this file.

[storage]
data_dir = "."
database = "helpline.db"
key_file = "master.key"
database_url = {database_url}

[sms]
# Replace with your Twilio account's values (see README). Until then, replies cannot be sent, and
# this random token signs the webhooks that `helpline simulate sms` posts.
account_sid = ""
auth_token = "{demo_token}"
from_number = ""
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.run(args)
        return result
    except PublicError as exc:
        print(f"error: {exc.public_message}", file=sys.stderr)
        return 2
    except HelplineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helpline", description="An anonymous messaging helpline server.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    init = commands.add_parser("init", help="create a data directory: database, master key, instance config")
    init.add_argument("--data-dir", type=Path, required=True)
    init.add_argument(
        "--database-url",
        default="",
        help="postgresql://user@host/dbname to use PostgreSQL (migrated now); default: SQLite",
    )
    init.set_defaults(run=_init)

    serve = commands.add_parser("serve", help="run the server")
    _config_option(serve)
    serve.set_defaults(run=_serve)

    user = commands.add_parser("user", help="manage console accounts")
    user_commands = user.add_subparsers(required=True, metavar="ACTION")
    add = user_commands.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument(
        "--role",
        choices=["volunteer", "supervisor", "admin"],
        action="append",
        required=True,
        help="repeat for an account that holds several roles (admin alone reads no conversation)",
    )
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    _config_option(add)
    add.set_defaults(run=_user_add)
    roles = user_commands.add_parser("roles", help="set an account's roles (replacing the ones it has)")
    roles.add_argument("username")
    roles.add_argument("--role", choices=["volunteer", "supervisor", "admin"], action="append", required=True)
    _config_option(roles)
    roles.set_defaults(run=_user_roles)

    for action, text in (
        ("disable", "disable an account (its sessions end at once)"),
        ("enable", "enable a disabled account"),
        ("reset-2fa", "turn off an account's two-factor sign-in so it can enrol again"),
        ("unlock", "unlock an account locked by failed sign-ins"),
        ("reset-password", "give an account a new password (generated and printed once, or --password-stdin)"),
    ):
        admin = user_commands.add_parser(action, help=text)
        admin.add_argument("username")
        if action == "reset-password":
            admin.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        _config_option(admin)
        admin.set_defaults(run=_user_admin, action=action)

    audit = commands.add_parser("audit", help="check the audit log")
    audit_commands = audit.add_subparsers(required=True, metavar="ACTION")
    verify = audit_commands.add_parser("verify", help="walk the hash chain and name the first bad entry")
    verify.add_argument("--expect-head", help="the head hash kept elsewhere; detects a rewritten or truncated log")
    _config_option(verify)
    verify.set_defaults(run=_audit_verify)
    head = audit_commands.add_parser("head", help="print the latest entry's hash, to keep somewhere else")
    _config_option(head)
    head.set_defaults(run=_audit_head)

    _add_simulate(commands)

    bench = commands.add_parser(
        "bench", help="run the real server on a fresh data directory under load and measure it (see README)"
    )
    bench_command.add_options(bench)
    bench.set_defaults(run=bench_command.main)
    lifecycle_commands.add_commands(commands, _config_option)
    storage_commands.add_commands(commands, _config_option)
    deploy_command.add_command(commands, _config_option)
    report_command.add_command(commands, _config_option)
    return parser


def _add_simulate(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``helpline simulate sms|email|chat``: a demo contact on each channel."""
    simulate = commands.add_parser("simulate", help="act as a contact, for demos and load")
    simulate_commands = simulate.add_subparsers(required=True, metavar="CHANNEL")
    sms = simulate_commands.add_parser("sms", help="post a correctly signed Twilio SMS webhook to the server")
    sms.add_argument("--from", dest="sender", required=True, help="the texter's number, e.g. +447700900123")
    sms.add_argument("--body", required=True)
    _config_option(sms)
    sms.set_defaults(run=_simulate_sms)
    email = simulate_commands.add_parser("email", help="send an email to the server's SMTP port, as a mail client")
    email.add_argument("--from", dest="sender", required=True, help="the contact's address, e.g. jo@example.net")
    email.add_argument("--subject", default="Please help")
    email.add_argument("--body", required=True)
    _config_option(email)
    email.set_defaults(run=_simulate_email)
    chat = simulate_commands.add_parser("chat", help="open a web chat and send a message, as the chat page would")
    chat.add_argument("--body", required=True)
    chat.add_argument("--wait", type=float, default=0.0, help="seconds to stay and print replies (default: 0)")
    _config_option(chat)
    chat.set_defaults(run=_simulate_chat)


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="instance config (default: %(default)s)")


def _init(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    Keyring.generate().write_new(data_dir / "master.key")
    config = data_dir / "helpline.toml"
    if not config.exists():
        text = INSTANCE_TEMPLATE.format(demo_token=secrets.token_hex(16), database_url=json.dumps(args.database_url))
        config.write_text(text, encoding="utf-8")
    settings = settings_module.load(config, os.environ)

    async def create_database() -> None:
        store = open_store(settings, SystemClock())
        if isinstance(store, PostgresStore):
            await store.migrate()
        await store.open()
        await store.close()

    asyncio.run(create_database())
    print(f"Created {data_dir}: database, master key (keep a copy somewhere safe), and {config}.")
    return 0


def _serve(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    log.configure(settings.log.level)
    helpline = build(settings)
    app = build_app(helpline)
    app.on_startup.append(freeze_after_start)  # after the start-up work of build_app's cleanup context
    print(f"Helpline console: {settings.server.public_url.rstrip('/')}/console", flush=True)
    server = settings.server
    # uvloop when installed (the "fast" extra)
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(serving.serve_forever(app, server.host, server.port, header_timeout=server.header_timeout_seconds))
    return 0


def _user_add(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    generated = not args.password_stdin
    password = secrets.token_urlsafe(15) if generated else sys.stdin.readline().rstrip("\n")

    run_on_store(settings, lambda helpline: helpline.accounts.add_user(args.username, args.role, password))
    roles = " + ".join(dict.fromkeys(args.role))
    if generated:
        print(f"Created {roles} '{args.username}' with password: {password}")
        print("This password is shown once. Keep it somewhere safe or pass it on in person.")
    else:
        print(f"Created {roles} '{args.username}'.")
    return 0


def _user_roles(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    user = run_on_store(settings, lambda helpline: helpline.accounts.set_roles(args.username, args.role))
    print(f"'{user.username}' now holds: {', '.join(user.role_names)}.")
    return 0


def _user_admin(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    system_admin = User(id="system", username="system", roles=frozenset({"admin"}), disabled=False, password_hash="")

    password = ""
    if args.action == "reset-password":
        given = getattr(args, "password_stdin", False)
        password = sys.stdin.readline().rstrip("\n") if given else secrets.token_urlsafe(15)

    async def change(helpline: Helpline) -> None:
        accounts = helpline.accounts
        if args.action == "reset-password":
            await helpline.password_changes.set_for(args.username, password)
        elif args.action == "disable":
            await accounts.set_disabled(system_admin, args.username, True)
        elif args.action == "enable":
            await accounts.set_disabled(system_admin, args.username, False)
        elif args.action == "reset-2fa":
            await accounts.reset_totp(system_admin, args.username)
        else:
            await accounts.unlock(system_admin, args.username)

    run_on_store(settings, change)
    print(f"Done: {args.action} {args.username}.")
    if args.action == "reset-password" and not getattr(args, "password_stdin", False):
        print(f"New password for '{args.username}': {password}")
        print("This password is shown once. Pass it on in person; their other sessions have ended.")
    return 0


def _audit_rows(helpline: Helpline) -> Awaitable[list[StoredAuditRow]]:
    return helpline.store.read(lambda tx: tx.audit.rows())


def _audit_verify(args: argparse.Namespace) -> int:
    rows = run_on_store(settings_of(args), _audit_rows)
    bad = first_bad(rows)
    if bad is not None:
        print(f"The audit log is broken at entry {bad}: it was edited, deleted or moved.", file=sys.stderr)
        return 1
    head = rows[-1].hash.hex() if rows else GENESIS.hex()
    if args.expect_head and args.expect_head != head:
        print("The audit log does not end at the expected head: entries were removed or rewritten.", file=sys.stderr)
        return 1
    print(f"The audit log is intact: {len(rows)} entries, head {head}.")
    return 0


def _audit_head(args: argparse.Namespace) -> int:
    rows = run_on_store(settings_of(args), _audit_rows)
    print(rows[-1].hash.hex() if rows else GENESIS.hex())
    return 0


def _simulate_sms(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    if not settings.sms.auth_token:
        print("error: sms.auth_token is not set, so the webhook cannot be signed", file=sys.stderr)
        return 2
    path = "/webhooks/twilio/sms"
    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": settings.sms.account_sid or "AC" + "0" * 32,
        "From": args.sender,
        "To": settings.sms.from_number or "+15005550006",
        "Body": args.body,
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }
    signature = RequestValidator(settings.sms.auth_token).compute_signature(
        settings.sms.public_base_url.rstrip("/") + path, params
    )
    host = settings.server.host if settings.server.host not in ("0.0.0.0", "::") else "127.0.0.1"  # noqa: S104
    url = f"http://{host}:{settings.server.port}{path}"

    async def post() -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=params, headers={"X-Twilio-Signature": signature}) as response,
        ):
            return response.status

    try:
        status = asyncio.run(post())
    except aiohttp.ClientError:
        print(f"error: no server answered at {url}; is `helpline serve` running?", file=sys.stderr)
        return 1
    print(f"Webhook posted: HTTP {status}")
    if status != 200:
        return 1
    sender = normalise_sender(args.sender)
    replies = run_on_store(settings, lambda helpline: _automatic_replies(helpline, sender, args.body))
    if replies:
        print("The texter would get back at once:")
        for reply in replies:
            print(f"  {reply}")
    else:
        print("No automatic reply: the texter waits for a volunteer's answer in the console.")
    return 0


REPLY_LOOKS = 15  # times 0.2 s: how long simulate sms waits for the server to route its message


async def _automatic_replies(helpline: Helpline, sender: str, body: str) -> list[str]:
    """The automatic messages (greeting, closed message) sent after the texter's latest message with ``body``."""
    # In a surge the server routes a message a moment after answering its webhook: look for a while.
    for _ in range(REPLY_LOOKS):
        conversation = await helpline.conversations.find_open("sms", sender)
        if conversation is not None:
            messages = await helpline.conversations.contact_transcript(conversation.id, 0)
            sent = [m.seq for m in messages if m.direction == "in" and m.body == body]
            if sent:
                return [m.body for m in messages if m.seq > sent[-1] and m.direction == "out" and m.author is None]
        await asyncio.sleep(0.2)
    return []


def _simulate_email(args: argparse.Namespace) -> int:
    mail = settings_of(args).email
    if not mail.enabled:
        print("error: email is not enabled (set email.enabled and email.addresses)", file=sys.stderr)
        return 2
    message = EmailMessage()
    message["From"] = args.sender
    message["To"] = mail.addresses[0]
    message["Subject"] = args.subject
    message["Message-ID"] = make_msgid(domain="simulated.invalid")
    message.set_content(args.body)
    host = mail.smtp_host if mail.smtp_host not in ("0.0.0.0", "::") else "127.0.0.1"  # noqa: S104

    async def send() -> str:
        async with aiosmtplib.SMTP(hostname=host, port=mail.smtp_port, start_tls=False, timeout=30) as client:
            await client.mail(args.sender)
            await client.rcpt(mail.addresses[0])
            response = await client.data(message.as_bytes())
            return f"{response.code} {response.message}"

    try:
        answer = asyncio.run(send())
    except aiosmtplib.SMTPResponseException as exc:
        print(f"Email refused: {exc.code} {exc.message}", file=sys.stderr)
        return 1
    except (aiosmtplib.SMTPException, OSError):
        where = f"{host}:{mail.smtp_port}"
        print(f"error: no SMTP server answered at {where}; is `helpline serve` running?", file=sys.stderr)
        return 1
    print(f"Email sent: {answer}")
    return 0


def _simulate_chat(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    if not settings.webchat.enabled:
        print("error: web chat is not enabled (webchat.enabled)", file=sys.stderr)
        return 2
    host = settings.server.host if settings.server.host not in ("0.0.0.0", "::") else "127.0.0.1"  # noqa: S104
    url = f"http://{host}:{settings.server.port}/chat/ws"
    origin = settings.server.public_url.rstrip("/")

    async def chat() -> int:
        async with aiohttp.ClientSession() as session, session.ws_connect(url, headers={"Origin": origin}) as ws:
            await ws.send_json({"type": "hello", "token": None, "after": 0})
            await ws.send_json({"type": "message", "id": secrets.token_urlsafe(12), "body": args.body})
            deadline = asyncio.get_running_loop().time() + max(args.wait, 5.0)
            stored = False
            while (remaining := deadline - asyncio.get_running_loop().time()) > 0:
                try:
                    frame = await ws.receive_json(timeout=remaining)
                except (TimeoutError, TypeError, ValueError):
                    break
                kind = frame.get("type")
                if kind == "ack":
                    stored = True
                    print("Chat message stored.")
                    if args.wait <= 0:
                        return 0
                elif kind == "error":
                    print(f"Refused: {frame.get('message')}", file=sys.stderr)
                    return 1
                elif kind == "queue":
                    print(f"Waiting: number {frame.get('position')} in the queue.")
                elif kind == "message" and frame.get("from") != "you":
                    print(f"{frame.get('from')}: {frame.get('body')}")
                elif kind == "ended":
                    print(f"Chat ended: {frame.get('text')}")
                    break
            return 0 if stored else 1

    try:
        return asyncio.run(chat())
    except aiohttp.ClientError:
        print(f"error: no server answered at {url}; is `helpline serve` running?", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
