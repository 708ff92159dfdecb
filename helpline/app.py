"""The composition root: the one place that builds every part from settings and wires them together."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from helpline.bus import InProcessBus
from helpline.channels.email.addresses import domain_of, normalise_address
from helpline.channels.email.intake import EmailIntake
from helpline.channels.email.relay import SmtpRelaySender
from helpline.channels.email.server import SmtpHandler, SmtpServer, server_tls_context
from helpline.channels.sms.gateway import TwilioSender
from helpline.channels.sms.signature import SignedForms
from helpline.channels.sms.webhook import SmsWebhooks
from helpline.channels.webchat.channel import WebchatChannel, build_webchat
from helpline.channels.webchat.tokens import HmacKey
from helpline.clock import Clock, SystemClock
from helpline.core.accounts import Accounts, SignInPolicy
from helpline.core.blocks import Blocks
from helpline.core.canned import Canned
from helpline.core.closing import Closer
from helpline.core.conversations import Conversations
from helpline.core.delivery import Delivery
from helpline.core.disclosure import Disclosures
from helpline.core.erasure import Erasure
from helpline.core.escalation import Escalations, OnCall
from helpline.core.floor import FloorView
from helpline.core.hours import DAYS, HoursBook, OpeningHours
from helpline.core.intake import Intake
from helpline.core.notes import Notes
from helpline.core.oversight import Oversight
from helpline.core.password_changes import PasswordChanges
from helpline.core.ports import ProviderRecords, Sender
from helpline.core.provider_deletion import LEASE as DELETION_LEASE
from helpline.core.provider_deletion import DeletionPolicy, ProviderDeletions
from helpline.core.records import Records
from helpline.core.reports.export import SmallNumbers
from helpline.core.reports.figures import Vocabulary
from helpline.core.reports.service import Reports
from helpline.core.retention import Retention, RetentionPolicy
from helpline.core.retry import DueRule, RetryRule
from helpline.core.risk import RiskScanner
from helpline.core.risk_meaning import MeaningReader, Prototypes
from helpline.core.risk_raising import RiskRaiser
from helpline.core.rotation import KeyRotation
from helpline.core.routing import Routing
from helpline.core.shift import Shift
from helpline.core.signin_limits import LimitPolicy, SignInLimits
from helpline.core.staff_notices import StaffNotices
from helpline.core.threads import Threads
from helpline.crypto.datakeys import DataKeys
from helpline.crypto.keyring import Keyring
from helpline.crypto.passwords import Passwords
from helpline.crypto.pseudonyms import Pseudonyms
from helpline.crypto.secretbox import SecretBox
from helpline.crypto.totp import TotpCodes
from helpline.errors import ConfigError
from helpline.log import get_logger
from helpline.semantic.model import MODEL_NAME, ModelFiles, Unavailable, check_files, installed_files
from helpline.semantic.process import ModelProcess
from helpline.settings import SafeguardingSettings, Settings
from helpline.store.postgres.database import PostgresStore
from helpline.store.postgres.events import PgEventHistory
from helpline.store.postgres.instance_keys import PgInstanceKeys
from helpline.store.postgres.limits import PgLimits
from helpline.store.postgres.notifier import PgNotifier
from helpline.store.postgres.presence import PgPresence
from helpline.store.presence import MemoryPresence
from helpline.store.sqlite.database import SqliteStore
from helpline.web.api import SessionApi
from helpline.web.api_admin import AdminApi
from helpline.web.api_conversations import ConversationApi
from helpline.web.api_erasure import ErasureApi
from helpline.web.api_oversight import OversightApi
from helpline.web.api_reports import ReportApi
from helpline.web.api_safeguarding import SafeguardingApi
from helpline.web.auth import SessionAuth
from helpline.web.health import Health
from helpline.web.live import ConsoleLive
from helpline.web.metrics import Metrics, MetricsAccess
from helpline.web.middleware import request_context, security_headers
from helpline.web.pages import Pages
from helpline.web.report_page import Labels
from helpline.web.routes import Handlers, add_routes
from helpline.web.serving import body_deadline
from helpline.workers.intake import IntakeWorker
from helpline.workers.meaning import MeaningWorker
from helpline.workers.outbound import OutboundWorker
from helpline.workers.provider_deletion import ProviderDeletionWorker
from helpline.workers.retention import RetentionWorker
from helpline.workers.safeguarding import SafeguardingWorker
from helpline.workers.shift import ShiftWorker


@dataclass
class MeaningState:
    """Whether the meaning layer runs, and which model or why not: for the start-up log and ``/readyz``."""

    on: bool
    detail: str


@dataclass
class Helpline:
    """Every long-lived part of one server, wired."""

    settings: Settings
    clock: Clock
    store: SqliteStore | PostgresStore
    bus: InProcessBus
    notifier: InProcessBus | PgNotifier
    accounts: Accounts
    conversations: Conversations
    intake: Intake
    intake_worker: IntakeWorker
    routing: Routing
    notes: Notes
    closer: Closer
    records: Records
    blocks: Blocks
    canned: Canned
    hours: HoursBook
    floor: FloorView
    delivery: Delivery
    sms_sender: TwilioSender
    outbound: OutboundWorker
    escalations: Escalations
    oversight: Oversight
    disclosures: Disclosures
    safeguarding: SafeguardingWorker
    retention: Retention
    purger: RetentionWorker
    erasure: Erasure
    rotation: KeyRotation
    provider_deletion: ProviderDeletionWorker
    shift: Shift
    shift_worker: ShiftWorker
    password_changes: PasswordChanges
    reports: Reports
    email_server: SmtpServer | None = None
    webchat: WebchatChannel | None = None
    # The risk scanner's meaning layer: its worker, or None when it is off (and ``meaning_state`` says why).
    meaning: MeaningWorker | None = None
    meaning_state: MeaningState = field(default_factory=lambda: MeaningState(False, "turned off"))
    # Where instances share PostgreSQL: the master key versions this one holds and uses, told to the others.
    instance_keys: PgInstanceKeys | None = None

    async def open(self) -> None:
        await self.store.open()
        if isinstance(self.notifier, PgNotifier):
            await self.notifier.start()
        await self._start_meaning()
        await self.hours.load()
        await self.sms_sender.start()

    async def _start_meaning(self) -> None:
        """Start the meaning layer's model process; if it cannot run, the lexicon works alone, and says so."""
        state = self.meaning_state
        if self.meaning is None:
            if self.settings.safeguarding.meaning_layer:
                log.warning("risk.meaning_layer", state="off", reason=state.detail)
            else:
                log.info("risk.meaning_layer", state="off", reason=state.detail)
            return
        problem = await self.meaning.start()
        if problem is not None:
            state.on, state.detail = False, f"lexicon only: {problem}"
            log.warning("risk.meaning_layer", state="off", reason=state.detail)
            return
        log.info("risk.meaning_layer", state="on", model=state.detail)

    async def close(self) -> None:
        if self.meaning is not None:
            self.meaning.close()
        await self.sms_sender.close()
        if isinstance(self.notifier, PgNotifier):
            await self.notifier.stop()
        await self.store.close()


HELPLINE = web.AppKey("helpline", Helpline)
log = get_logger(__name__)


def build(settings: Settings, clock: Clock | None = None, *, model_files: ModelFiles | None = None) -> Helpline:
    """Build every part from settings (nothing is opened yet).

    ``model_files`` are the meaning layer's model and tokenizer with their pinned hashes: by default the
    installed packages' (tests point them elsewhere to see a missing or altered model refused).
    """
    clock = clock or SystemClock()
    keyring = Keyring.load(settings.storage.key_file, settings.master_key)
    store = open_store(settings, clock)
    cipher = DataKeys(keyring)
    pseudonyms = Pseudonyms(keyring)
    box = SecretBox(keyring)
    kept = settings.retention
    vault_grace = timedelta(minutes=kept.vault_grace_minutes)
    bus = InProcessBus()
    notifier = _notifier(settings, store, bus, clock)
    auth = settings.auth
    passwords = Passwords(auth.password_time_cost, auth.password_memory_kib)
    accounts = Accounts(
        store,
        passwords,
        box,
        TotpCodes(),
        notifier,
        clock,
        SignInPolicy(
            idle=timedelta(minutes=auth.session_idle_minutes),
            absolute=timedelta(hours=auth.session_absolute_hours),
            min_password_chars=auth.min_password_chars,
            require_totp_for=auth.require_totp_for,
            issuer=settings.helpline.name,
        ),
        SignInLimits(
            store,
            pseudonyms,
            clock,
            LimitPolicy(
                throttle_after=auth.throttle_after,
                throttle_base=timedelta(seconds=auth.throttle_base_seconds),
                lock_after=auth.lock_after,
                lock_for=timedelta(minutes=auth.lock_minutes),
                network_failures=auth.network_failures,
                network_window=timedelta(minutes=auth.network_window_minutes),
            ),
        ),
    )
    hours_settings = settings.hours
    hours = HoursBook(
        store,
        notifier,
        clock,
        OpeningHours.build(
            hours_settings.timezone,
            {day: getattr(hours_settings, day) for day in DAYS},
            hours_settings.closed_message,
        ),
    )
    scanner = _risk_scanner(settings.safeguarding.lexicon_file, settings.safeguarding.known_names)
    raiser = RiskRaiser(store, cipher, notifier)
    meaning, meaning_state = _meaning_layer(settings.safeguarding, scanner, raiser, model_files or installed_files())
    conversations = Conversations(
        store,
        cipher,
        pseudonyms,
        notifier,
        clock,
        greeting=settings.helpline.greeting,
        hours=hours,
        max_reply_chars=settings.console.max_reply_chars,
        risk=scanner,
        committed=meaning,
    )
    intake = Intake(
        store,
        box,
        pseudonyms,
        conversations,
        clock,
        route_at_once=settings.sms.route_at_once,
        # Only a shared database can hold rows another instance accepted.
        orphan_after=timedelta(seconds=settings.sms.orphan_after_seconds) if settings.storage.database_url else None,
    )
    console = settings.console
    records = Records(store, cipher, pseudonyms, clock)
    closer = Closer(
        store,
        cipher,
        records,
        notifier,
        clock,
        outcomes=[o.code for o in console.outcomes],
        contact_types=[o.code for o in console.contact_types],
        missing_types=[o.code for o in console.missing_types],
        consent_wording=console.consent_wording,
        vault_grace=vault_grace,
    )
    outbox = settings.outbox
    # The outbox's due-job rule (core/retry.py): a send in flight is held for the send lease. Staff notices
    # retry alike, but hold an attempt for the whole unconfirmed wait.
    retry = RetryRule(
        base=timedelta(seconds=outbox.backoff_base_seconds), maximum=timedelta(seconds=outbox.backoff_max_seconds)
    )
    unconfirmed_wait = timedelta(seconds=outbox.unconfirmed_wait_seconds)
    sends = DueRule(retry=retry, lease=timedelta(seconds=outbox.send_lease_seconds), max_attempts=outbox.max_attempts)
    backoff = DueRule(retry=retry, lease=unconfirmed_wait, max_attempts=outbox.max_attempts)
    delivery = Delivery(
        store,
        cipher,
        notifier,
        clock,
        sends,
        unconfirmed_wait,
        vault_grace=vault_grace,
        shared=store.engine.shared_by_instances,
    )
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
    email_server = None
    if settings.email.enabled:
        senders["email"], email_server = _email(settings, Threads(store, cipher, pseudonyms), conversations, clock)
    webchat = None
    if settings.webchat.enabled:
        webchat = build_webchat(
            settings.webchat,
            public_url=settings.server.public_url,
            conversations=conversations,
            hours=hours,
            notifier=notifier,
            clock=clock,
            token_key=HmacKey(*_by_version(keyring, "webchat/token")),
            network_key=HmacKey(keyring.subkey("webchat/network")),
            shared=PgLimits(store) if isinstance(store, PostgresStore) else None,
        )
        senders["webchat"] = webchat.sender
    outbound = OutboundWorker(
        delivery,
        senders,
        notifier,
        batch_size=outbox.batch_size,
        poll_seconds=outbox.poll_seconds,
        lookups={"sms": sms_sender} if sms.enabled else {},
    )
    guard = settings.safeguarding
    escalations = Escalations(
        store,
        cipher,
        notifier,
        clock,
        categories=guard.categories,
        ack_after=timedelta(seconds=guard.ack_seconds),
        oncall=OnCall(guard.oncall_channel, f"{settings.server.public_url.rstrip('/')}/console/escalations"),
    )
    safeguarding = SafeguardingWorker(
        escalations, StaffNotices(store, clock, backoff), senders, oncall_address=guard.oncall_address
    )
    retention = Retention(
        store,
        cipher,
        store,
        clock,
        RetentionPolicy(
            vault_grace=vault_grace,
            transcript=timedelta(days=kept.transcript_days),
            record=timedelta(days=kept.record_days),
            safeguarding=timedelta(days=kept.safeguarding_days),
            inbound_keys=timedelta(days=kept.inbound_key_days),
            batch_size=kept.purge_batch_size,
        ),
    )
    providers: dict[str, ProviderRecords] = {"sms": sms_sender} if sms.enabled and sms.delete_provider_records else {}
    deletions = ProviderDeletions(
        store,
        cipher,
        clock,
        DeletionPolicy(
            channels=tuple(providers),
            rule=DueRule(
                retry=RetryRule(
                    base=timedelta(seconds=sms.delete_retry_seconds),
                    maximum=timedelta(seconds=sms.delete_retry_max_seconds),
                ),
                lease=DELETION_LEASE,
                give_up_after=timedelta(hours=sms.delete_give_up_hours),
            ),
            batch_size=outbox.batch_size,
        ),
    )
    # A console socket reaches one instance: where instances share PostgreSQL, presence is shared through it.
    presence = PgPresence(store) if isinstance(store, PostgresStore) else MemoryPresence()
    shift = Shift(store, presence, notifier, clock, away_after=timedelta(seconds=settings.console.away_after_seconds))
    return Helpline(
        shift=shift,
        shift_worker=ShiftWorker(shift),
        password_changes=PasswordChanges(
            store, passwords, clock, min_chars=auth.min_password_chars, check_code=accounts.accept_code
        ),
        meaning=meaning,
        meaning_state=meaning_state,
        instance_keys=(
            PgInstanceKeys(store, keyring, host=f"{socket.gethostname()} pid {os.getpid()}")
            if isinstance(store, PostgresStore)
            else None
        ),
        reports=Reports(
            store,
            clock,
            Vocabulary(
                outcomes=[o.code for o in console.outcomes],
                contact_types=[o.code for o in console.contact_types],
                missing_types=[o.code for o in console.missing_types],
                categories=guard.categories,
            ),
            timezone=hours_settings.timezone,
            longest_span=timedelta(hours=auth.session_absolute_hours),
        ),
        retention=retention,
        purger=RetentionWorker(retention, interval_seconds=kept.purge_interval_minutes * 60),
        erasure=Erasure(store, cipher, store, clock, safeguarding=timedelta(days=kept.safeguarding_days)),
        rotation=KeyRotation(store, cipher, box, cipher, pseudonyms, clock, batch_size=kept.purge_batch_size),
        provider_deletion=ProviderDeletionWorker(
            deletions, providers, poll_seconds=sms.delete_poll_seconds, busy=intake.busy
        ),
        settings=settings,
        clock=clock,
        store=store,
        bus=bus,
        notifier=notifier,
        accounts=accounts,
        conversations=conversations,
        intake=intake,
        intake_worker=IntakeWorker(intake),
        routing=Routing(
            store, cipher, notifier, clock, max_concurrent=settings.routing.max_concurrent, available=shift.available
        ),
        notes=Notes(store, cipher, notifier, clock),
        closer=closer,
        records=records,
        blocks=Blocks(store, clock),
        canned=Canned(store, clock),
        hours=hours,
        floor=FloorView(store, clock, shift),
        delivery=delivery,
        sms_sender=sms_sender,
        outbound=outbound,
        escalations=escalations,
        oversight=Oversight(store, cipher, notifier, clock),
        disclosures=Disclosures(
            store,
            cipher,
            notifier,
            clock,
            dual_control=guard.dual_control,
            min_reason_chars=guard.min_reason_chars,
            oncall_channel=guard.oncall_channel,
            console_url=f"{settings.server.public_url.rstrip('/')}/console/escalations",
        ),
        safeguarding=safeguarding,
        email_server=email_server,
        webchat=webchat,
    )


def open_store(settings: Settings, clock: Clock) -> SqliteStore | PostgresStore:
    """The store the settings choose: PostgreSQL when ``storage.database_url`` is set, else the SQLite file."""
    storage = settings.storage
    if storage.database_url:
        return PostgresStore(
            storage.database_url,
            clock,
            password=storage.database_password,
            pool_min=storage.pool_min,
            pool_max=storage.pool_max,
            statement_timeout_seconds=storage.statement_timeout_seconds,
        )
    return SqliteStore(storage.database, clock, synchronous=storage.synchronous, max_batch=storage.max_batch)


def _notifier(
    settings: Settings, store: SqliteStore | PostgresStore, bus: InProcessBus, clock: Clock
) -> InProcessBus | PgNotifier:
    """Events within this process on SQLite; through the shared events table when instances share PostgreSQL."""
    if isinstance(store, PostgresStore):
        return PgNotifier(store.connect, bus, clock, poll_seconds=settings.storage.events_poll_seconds)
    return bus


def _risk_scanner(lexicon_file: Path, known_names: Sequence[str]) -> RiskScanner:
    """The risk scanner over the configured lexicon; a missing or broken lexicon stops the start."""
    try:
        text = lexicon_file.read_text(encoding="utf-8")
    except OSError:
        raise ConfigError(f"safeguarding.lexicon_file: cannot read {lexicon_file}") from None
    return RiskScanner.from_toml(
        text, origin=f"safeguarding.lexicon_file ({lexicon_file.name})", known_names=known_names
    )


def _meaning_layer(
    guard: SafeguardingSettings, scanner: RiskScanner, raiser: RiskRaiser, files: ModelFiles | Unavailable
) -> tuple[MeaningWorker | None, MeaningState]:
    """The meaning layer's worker over the packaged model (started with the server), or None and why not."""
    if not guard.meaning_layer:
        return None, MeaningState(on=False, detail="turned off (safeguarding.meaning_layer)")
    try:
        text = guard.prototypes_file.read_text(encoding="utf-8")
    except OSError:
        raise ConfigError(f"safeguarding.prototypes_file: cannot read {guard.prototypes_file}") from None
    prototypes = Prototypes.from_toml(text, origin=f"safeguarding.prototypes_file ({guard.prototypes_file.name})")
    checked = check_files(files)
    if isinstance(checked, Unavailable):
        return None, MeaningState(on=False, detail=f"lexicon only: {checked.reason}")
    model = ModelProcess(checked)

    def start() -> str | None:
        problem = model.start()
        return None if problem is None else problem.reason

    reader = MeaningReader(model, prototypes, scanner)
    worker = MeaningWorker(reader, raiser, capacity=guard.meaning_queue, starter=start, on_close=model.close)
    return worker, MeaningState(on=True, detail=MODEL_NAME)


def _email(
    settings: Settings, threads: Threads, conversations: Conversations, clock: Clock
) -> tuple[SmtpRelaySender, SmtpServer]:
    """The email channel: the relay sender the outbox uses, and the inbound SMTP server."""
    mail = settings.email
    sender = SmtpRelaySender(
        threads,
        clock,
        host=mail.relay_host,
        port=mail.relay_port,
        starttls=mail.relay_starttls,
        username=mail.relay_username,
        password=mail.relay_password,
        from_address=mail.from_address,
        default_subject=mail.default_subject,
        timeout=mail.relay_timeout_seconds,
        ca_file=None if mail.relay_ca_file == Path() else mail.relay_ca_file,
    )
    tls = None if mail.tls_cert_file == Path() else server_tls_context(mail.tls_cert_file, mail.tls_key_file)
    addresses = frozenset(filter(None, (normalise_address(a) for a in mail.addresses)))
    server = SmtpServer(
        SmtpHandler(EmailIntake(conversations, max_body_chars=mail.max_body_chars), addresses),
        host=mail.smtp_host,
        port=mail.smtp_port,
        hostname=domain_of(mail.addresses[0]),
        max_message_bytes=mail.max_message_bytes,
        tls_context=tls,
    )
    return sender, server


def _followers(helpline: Helpline) -> list[asyncio.Task[None]]:
    """What every instance follows of the others, whether or not it runs the workers."""
    tasks = [
        # Hours an admin saves on any instance take effect on every one.
        asyncio.create_task(helpline.hours.follow(helpline.notifier.subscribe()), name="hours"),
    ]
    if helpline.instance_keys is not None:
        # A master key version made current at any instance is used here within a second (if held).
        tasks.append(asyncio.create_task(helpline.instance_keys.run(), name="instance-keys"))
    return tasks


def _by_version(keyring: Keyring, purpose: str) -> list[bytes]:
    """A subkey under every master key version held, the current one first."""
    versions = sorted(keyring.versions, key=lambda v: v != keyring.current_version)
    return [keyring.subkey(purpose, version) for version in versions]


def _readings(helpline: Helpline, live: ConsoleLive) -> dict[str, Callable[[], float]]:
    """The figures /metrics reports besides the bus's and the store's."""
    store, intake = helpline.store, helpline.intake
    readings = {
        "console_sockets": lambda: float(live.connected),
        "store_commits_total": lambda: float(store.commits),
        "store_committed_units_total": lambda: float(store.committed_units),
        "intake_accepted_total": lambda: float(intake.accepted),
        "intake_routed_total": lambda: float(intake.routed),
        "intake_routed_at_once_total": lambda: float(intake.routed_at_once),
        "intake_failures_total": lambda: float(intake.failures),
    }
    if helpline.meaning is not None:
        meaning = helpline.meaning
        readings["risk_meaning_read_total"] = lambda: float(meaning.read_total)
        readings["risk_meaning_raised_total"] = lambda: float(meaning.raised_total)
        readings["risk_meaning_skipped_total"] = lambda: float(meaning.skipped_total)
        readings["risk_meaning_backlog"] = lambda: float(meaning.backlog)
    if isinstance(helpline.notifier, PgNotifier):
        events = helpline.notifier
        readings["events_read_total"] = lambda: float(events.read_rows)
        readings["events_held_reads_total"] = lambda: float(events.held_reads)
        readings["events_listener_reconnects_total"] = lambda: float(events.reconnects)
    if helpline.webchat is not None:
        registry = helpline.webchat.registry
        readings["chats_live"] = lambda: float(len(registry.chats()))
    return readings


def build_app(helpline: Helpline, *, run_workers: bool = True) -> web.Application:
    """The aiohttp application over a built Helpline; opens and closes it with the app."""
    settings = helpline.settings
    meaning_state = helpline.meaning_state
    app = web.Application(
        middlewares=[request_context, body_deadline(settings.server.body_timeout_seconds)],
        client_max_size=1024 * 1024,
    )
    app[HELPLINE] = helpline
    auth = SessionAuth(
        helpline.accounts, secure_cookies=settings.server.tls, trusted_proxy_hops=settings.auth.trusted_proxy_hops
    )
    sms_hooks = None
    if settings.sms.enabled:
        forms = SignedForms(settings.sms.auth_token, settings.sms.public_base_url)
        sms_hooks = SmsWebhooks(
            forms,
            helpline.intake,
            helpline.delivery,
            max_body_chars=settings.sms.max_body_chars,
            delete_provider_records=settings.sms.delete_provider_records,
        )
    console = settings.console
    session_api = SessionApi(
        auth,
        helpline.accounts,
        helpline.shift,
        helpline.password_changes,
        outcomes=console.outcomes,
        contact_types=console.contact_types,
        missing_types=console.missing_types,
        consent_wording=console.consent_wording,
        max_concurrent=settings.routing.max_concurrent,
        helpline_name=settings.helpline.name,
        safeguarding_categories=settings.safeguarding.categories,
        oncall_channel=settings.safeguarding.oncall_channel,
        ack_seconds=settings.safeguarding.ack_seconds,
        emergency_instruction=settings.safeguarding.emergency_instruction,
        locale=settings.helpline.locale,
        timezone=settings.hours.timezone,
    )
    conversation_api = ConversationApi(
        auth,
        helpline.conversations,
        helpline.routing,
        helpline.notes,
        helpline.closer,
        helpline.blocks,
        helpline.shift,
    )
    live = ConsoleLive(
        auth,
        helpline.notifier,
        settings.server.public_url,
        helpline.shift.presence,
        helpline.clock,
        history=PgEventHistory(helpline.store.fetch) if isinstance(helpline.store, PostgresStore) else None,
    )
    metrics = Metrics(
        helpline.bus, helpline.store, _readings(helpline, live), MetricsAccess(settings.server.metrics_token)
    )
    add_routes(
        app,
        Handlers(
            pages=Pages(),
            health=Health(helpline.store, meaning=lambda: (meaning_state.on, meaning_state.detail)),
            session=session_api,
            conversations=conversation_api,
            oversight=OversightApi(auth, helpline.floor, helpline.blocks, helpline.records),
            admin=AdminApi(
                auth, helpline.accounts, helpline.canned, helpline.hours, helpline.clock, helpline.password_changes
            ),
            safeguarding=SafeguardingApi(
                auth,
                helpline.escalations,
                helpline.oversight,
                helpline.disclosures,
                helpline.shift,
                oncall_channel=settings.safeguarding.oncall_channel,
                emergency_instruction=settings.safeguarding.emergency_instruction,
            ),
            live=live,
            metrics=metrics,
            sms=sms_hooks,
            webchat_pages=helpline.webchat.pages if helpline.webchat else None,
            webchat_sockets=helpline.webchat.sockets if helpline.webchat else None,
            erasure=ErasureApi(auth, helpline.erasure),
            reports=ReportApi(
                auth,
                helpline.reports,
                Pages(),
                Labels({o.code: o.label for o in (*console.outcomes, *console.contact_types, *console.missing_types)}),
                SmallNumbers(settings.reports.small_number_threshold),
                helpline.clock,
            ),
        ),
    )
    app.on_response_prepare.append(security_headers(settings.server.tls))
    app.on_shutdown.append(live.close_all)
    if helpline.webchat is not None:
        app.on_shutdown.append(helpline.webchat.sockets.close_all)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await helpline.open()
        # From the start, so that a console resuming here finds what this instance has read meanwhile.
        live.start()
        if not settings.safeguarding.oncall_channel:
            # A flag raised while no supervisor is online would then reach nobody.
            log.warning("safeguarding.no_oncall_channel", setting="safeguarding.oncall_channel")
        if helpline.email_server is not None:
            await helpline.email_server.start()
        workers = [asyncio.create_task(metrics.count(), name="metrics"), *_followers(helpline)]
        if run_workers:
            workers.append(asyncio.create_task(helpline.intake_worker.run(), name="intake"))
            workers.append(asyncio.create_task(helpline.outbound.run(), name="outbound"))
            workers.append(asyncio.create_task(helpline.safeguarding.run(), name="safeguarding"))
            workers.append(asyncio.create_task(helpline.purger.run(), name="retention"))
            workers.append(asyncio.create_task(helpline.provider_deletion.run(), name="provider-deletion"))
            workers.append(asyncio.create_task(helpline.shift_worker.run(), name="shift"))
            if helpline.meaning is not None:
                workers.append(asyncio.create_task(helpline.meaning.run(), name="risk-meaning"))
        if helpline.webchat is not None:
            await helpline.webchat.start(run_timers=run_workers)
        yield
        if helpline.webchat is not None:
            await helpline.webchat.stop()
        if helpline.email_server is not None:
            await helpline.email_server.stop()
        for worker in workers:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        await helpline.close()

    app.cleanup_ctx.append(lifecycle)
    return app
