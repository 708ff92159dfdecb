"""The composition root: the one place that builds every part from settings and wires them together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web

from helpline.bus import InProcessBus
from helpline.channels.sms.gateway import TwilioSender
from helpline.channels.sms.signature import SignedForms
from helpline.channels.sms.webhook import SmsWebhooks
from helpline.clock import Clock, SystemClock
from helpline.core.accounts import Accounts
from helpline.core.conversations import Conversations
from helpline.core.delivery import Backoff, Delivery
from helpline.core.ports import Sender
from helpline.crypto.datakeys import DataKeys
from helpline.crypto.keyring import Keyring
from helpline.crypto.passwords import Passwords
from helpline.crypto.pseudonyms import Pseudonyms
from helpline.settings import Settings
from helpline.store.sqlite.database import SqliteStore
from helpline.web.api import ConsoleApi
from helpline.web.auth import SessionAuth
from helpline.web.health import Health
from helpline.web.middleware import request_context, security_headers
from helpline.web.pages import Pages
from helpline.web.routes import add_routes
from helpline.workers.outbound import OutboundWorker


@dataclass
class Helpline:
    """Every long-lived part of one server, wired."""

    settings: Settings
    clock: Clock
    store: SqliteStore
    bus: InProcessBus
    accounts: Accounts
    conversations: Conversations
    delivery: Delivery
    sms_sender: TwilioSender
    outbound: OutboundWorker

    async def open(self) -> None:
        await self.store.open()
        await self.sms_sender.start()

    async def close(self) -> None:
        await self.sms_sender.close()
        await self.store.close()


HELPLINE = web.AppKey("helpline", Helpline)


def build(settings: Settings, clock: Clock | None = None) -> Helpline:
    """Build every part from settings (nothing is opened yet)."""
    clock = clock or SystemClock()
    keyring = Keyring.load(settings.storage.key_file, settings.master_key)
    store = SqliteStore(
        settings.storage.database, clock, synchronous=settings.storage.synchronous, max_batch=settings.storage.max_batch
    )
    cipher = DataKeys(keyring)
    bus = InProcessBus()
    accounts = Accounts(
        store,
        Passwords(settings.auth.password_time_cost, settings.auth.password_memory_kib),
        clock,
        idle=timedelta(minutes=settings.auth.session_idle_minutes),
        absolute=timedelta(hours=settings.auth.session_absolute_hours),
        min_password_chars=settings.auth.min_password_chars,
    )
    conversations = Conversations(
        store,
        cipher,
        Pseudonyms(keyring),
        bus,
        clock,
        greeting=settings.helpline.greeting,
        outcomes=[o.code for o in settings.console.outcomes],
        max_reply_chars=settings.console.max_reply_chars,
    )
    outbox = settings.outbox
    backoff = Backoff(
        base=timedelta(seconds=outbox.backoff_base_seconds),
        maximum=timedelta(seconds=outbox.backoff_max_seconds),
        max_attempts=outbox.max_attempts,
        unconfirmed_wait=timedelta(seconds=outbox.unconfirmed_wait_seconds),
    )
    delivery = Delivery(store, cipher, bus, clock, backoff)
    sms = settings.sms
    sms_sender = TwilioSender(
        account_sid=sms.account_sid,
        auth_token=sms.auth_token,
        from_number=sms.from_number,
        api_base_url=sms.api_base_url,
        status_callback_base=sms.public_base_url,
        timeout=sms.request_timeout_seconds,
    )
    senders: dict[str, Sender] = {"sms": sms_sender} if sms.enabled else {}
    outbound = OutboundWorker(delivery, senders, bus, batch_size=outbox.batch_size, poll_seconds=outbox.poll_seconds)
    return Helpline(settings, clock, store, bus, accounts, conversations, delivery, sms_sender, outbound)


def build_app(helpline: Helpline, *, run_workers: bool = True) -> web.Application:
    """The aiohttp application over a built Helpline; opens and closes it with the app."""
    settings = helpline.settings
    app = web.Application(middlewares=[request_context], client_max_size=1024 * 1024)
    app[HELPLINE] = helpline
    auth = SessionAuth(helpline.accounts, secure_cookies=settings.server.tls)
    sms_hooks = None
    if settings.sms.enabled:
        forms = SignedForms(settings.sms.auth_token, settings.sms.public_base_url)
        sms_hooks = SmsWebhooks(
            forms, helpline.conversations, helpline.delivery, max_body_chars=settings.sms.max_body_chars
        )
    add_routes(
        app,
        api=ConsoleApi(auth, helpline.accounts, helpline.conversations, settings.console.outcomes),
        pages=Pages(),
        health=Health(helpline.store),
        sms=sms_hooks,
    )
    app.on_response_prepare.append(security_headers(settings.server.tls))

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await helpline.open()
        worker = asyncio.create_task(helpline.outbound.run(), name="outbound") if run_workers else None
        yield
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        await helpline.close()

    app.cleanup_ctx.append(lifecycle)
    return app
