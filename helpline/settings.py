"""Settings: frozen dataclasses, one per section of ``config/default.toml``.

Loading order, later wins: ``config/default.toml`` → the instance file given with ``--config`` →
environment variables ``HELPLINE_<SECTION>__<KEY>``. An environment value is read as TOML when it parses
as a TOML value (``8080``, ``true``, ``["a@b.org"]``), otherwise as a plain string; a text setting keeps
its text even when it looks like a number (``+447700900001``). A setting named
``<key>_file`` names a file whose contents become ``<key>`` (for secrets kept out of config files).
Relative paths are resolved against the directory of the file that set them. A file setting written
``credential:NAME`` names a systemd credential: the file ``NAME`` in ``$CREDENTIALS_DIRECTORY``, the
directory systemd gives a service for its ``LoadCredential=`` and ``SetCredentialEncrypted=`` secrets.
Unknown keys and values of the wrong type stop the start with a ``ConfigError`` naming the key.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from helpline.errors import ConfigError

ENV_PREFIX = "HELPLINE_"
MASTER_KEY_ENV = "HELPLINE_MASTER_KEY"
# systemd's variable naming the directory of a service's credentials (systemd.exec(5), "Credentials").
CREDENTIALS_ENV = "CREDENTIALS_DIRECTORY"
CREDENTIAL_PREFIX = "credential:"
# What a secret holds when the settings were loaded without reading secrets (``load(read_secrets=False)``).
UNREAD_SECRET = "(not read)"  # noqa: S105 - a marker, not a secret


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    tls: bool = False
    header_timeout_seconds: float = 15.0
    body_timeout_seconds: float = 30.0
    metrics_token: str = field(default="", repr=False)


@dataclass(frozen=True)
class StorageSettings:
    data_dir: Path = Path("var")
    database: Path = Path("var/helpline.db")
    key_file: Path = Path("var/master.key")
    synchronous: str = "FULL"
    max_batch: int = 256
    database_url: str = ""
    database_password: str = field(default="", repr=False)
    pool_min: int = 2
    pool_max: int = 10
    statement_timeout_seconds: float = 30.0
    events_poll_seconds: float = 1.0


@dataclass(frozen=True)
class Outcome:
    code: str
    label: str


@dataclass(frozen=True)
class HelplineSettings:
    name: str = "Helpline"
    greeting: str = ""
    locale: str = "en-GB"


@dataclass(frozen=True)
class ConsoleSettings:
    outcomes: tuple[Outcome, ...] = ()
    contact_types: tuple[Outcome, ...] = ()
    missing_types: tuple[Outcome, ...] = ()
    consent_wording: str = ""
    max_reply_chars: int = 1600
    away_after_seconds: int = 120


@dataclass(frozen=True)
class SafeguardingSettings:
    lexicon_file: Path = Path("config/risk-lexicon.toml")
    known_names: tuple[str, ...] = ()
    prototypes_file: Path = Path("config/risk-prototypes.toml")
    meaning_layer: bool = True
    meaning_queue: int = 1000
    categories: tuple[str, ...] = (
        "suicide",
        "self_harm",
        "immediate_danger",
        "abuse",
        "exploitation",
        "trafficking",
        "missing_child",
        "other",
    )
    ack_seconds: int = 120
    dual_control: bool = True
    oncall_channel: str = ""
    oncall_address: str = field(default="", repr=False)
    min_reason_chars: int = 20
    emergency_instruction: str = (
        "If someone may be hurt now, call 999 (or 112) and tell them what you know, then keep trying a supervisor."
    )


@dataclass(frozen=True)
class RoutingSettings:
    max_concurrent: int = 3


@dataclass(frozen=True)
class HoursSettings:
    timezone: str = "Europe/London"
    mon: tuple[str, ...] = ()
    tue: tuple[str, ...] = ()
    wed: tuple[str, ...] = ()
    thu: tuple[str, ...] = ()
    fri: tuple[str, ...] = ()
    sat: tuple[str, ...] = ()
    sun: tuple[str, ...] = ()
    closed_message: str = ""


@dataclass(frozen=True)
class AuthSettings:
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    min_password_chars: int = 12
    require_totp_for: tuple[str, ...] = ("supervisor", "admin")
    throttle_after: int = 3
    throttle_base_seconds: float = 5.0
    lock_after: int = 10
    lock_minutes: float = 15.0
    network_failures: int = 4
    network_window_minutes: float = 15.0
    trusted_proxy_hops: int = 0


@dataclass(frozen=True)
class SmsSettings:
    enabled: bool = True
    account_sid: str = ""
    auth_token: str = field(default="", repr=False)
    from_number: str = ""
    public_base_url: str = ""
    api_base_url: str = "https://api.twilio.com"
    max_body_chars: int = 1600
    route_at_once: int = 256
    orphan_after_seconds: float = 10.0
    request_timeout_seconds: float = 10.0
    delete_provider_records: bool = True
    delete_retry_seconds: float = 60.0
    delete_retry_max_seconds: float = 3600.0
    delete_give_up_hours: float = 72.0
    delete_poll_seconds: float = 30.0


@dataclass(frozen=True)
class RetentionSettings:
    vault_grace_minutes: float = 0.0
    transcript_days: float = 30.0
    record_days: float = 365.0
    safeguarding_days: float = 365.0
    inbound_key_days: float = 7.0
    purge_interval_minutes: float = 60.0
    purge_batch_size: int = 100


@dataclass(frozen=True)
class OutboxSettings:
    max_attempts: int = 8
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 600.0
    unconfirmed_wait_seconds: float = 900.0
    send_lease_seconds: float = 120.0
    poll_seconds: float = 1.0
    batch_size: int = 50


@dataclass(frozen=True)
class LogSettings:
    level: str = "info"


@dataclass(frozen=True)
class WebchatSettings:
    enabled: bool = True
    page_title: str = "Chat"
    exit_url: str = "https://www.bbc.co.uk/weather"
    frame_ancestors: tuple[str, ...] = ()
    max_message_chars: int = 2000
    max_concurrent: int = 50
    session_messages_per_minute: int = 20
    network_messages_per_minute: int = 120
    network_chats_per_hour: int = 30
    network_connections: int = 30
    network_live_chats: int = 5
    first_message_grace_seconds: float = 300.0
    idle_timeout_seconds: float = 1200.0
    idle_warning_seconds: float = 120.0
    heartbeat_seconds: float = 25.0
    session_max_hours: float = 12.0
    trusted_proxy_hops: int = 0
    out_of_hours_message: str = ""
    signposting: tuple[str, ...] = ()
    minutes_per_place: float = 5.0


@dataclass(frozen=True)
class EmailSettings:
    enabled: bool = False
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    addresses: tuple[str, ...] = ()
    max_message_bytes: int = 10 * 1024 * 1024
    max_body_chars: int = 20000
    tls_cert_file: Path = Path()
    tls_key_file: Path = Path()
    relay_host: str = ""
    relay_port: int = 587
    relay_starttls: bool = True
    relay_ca_file: Path = Path()
    relay_username: str = ""
    relay_password: str = field(default="", repr=False)
    relay_timeout_seconds: float = 30.0
    from_address: str = ""
    default_subject: str = "Your message"


@dataclass(frozen=True)
class ReportsSettings:
    small_number_threshold: int = 5


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = ServerSettings()
    storage: StorageSettings = StorageSettings()
    helpline: HelplineSettings = HelplineSettings()
    console: ConsoleSettings = ConsoleSettings()
    routing: RoutingSettings = RoutingSettings()
    safeguarding: SafeguardingSettings = SafeguardingSettings()
    hours: HoursSettings = HoursSettings()
    auth: AuthSettings = AuthSettings()
    sms: SmsSettings = SmsSettings()
    outbox: OutboxSettings = OutboxSettings()
    log: LogSettings = LogSettings()
    webchat: WebchatSettings = WebchatSettings()
    email: EmailSettings = EmailSettings()
    retention: RetentionSettings = RetentionSettings()
    reports: ReportsSettings = ReportsSettings()
    master_key: str = field(default="", repr=False)
    # The systemd credentials the file settings name (``credential:NAME``), sorted.
    credentials: tuple[str, ...] = ()

    def replace(self, section: str, **values: Any) -> Settings:
        """A copy with some values of one section changed (for tests and the CLI)."""
        current = getattr(self, section)
        return dataclasses.replace(self, **{section: dataclasses.replace(current, **values)})


def default_config_path() -> Path:
    """``default.toml`` shipped in the package, beside the risk lexicon and prototypes it names.

    An installed package holds a copy of ``config/`` as ``helpline/config``; in the source tree ``helpline/config``
    is a link to ``config/``, so both find the same files the same way.
    """
    return Path(__file__).resolve().parent / "config" / "default.toml"


def known_settings() -> dict[str, set[str]]:
    """Every ``section -> keys`` the loader accepts, including ``*_file`` companions of secrets."""
    known: dict[str, set[str]] = {}
    for section in dataclasses.fields(Settings):
        if section.name in ("master_key", "credentials"):
            continue
        section_type = _hints(Settings)[section.name]
        keys = {f.name for f in dataclasses.fields(section_type)}
        known[section.name] = keys | _secret_companions(section.name)
    return known


def load(
    instance_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    default_file: Path | None = None,
    *,
    read_secrets: bool = True,
) -> Settings:
    """Read and validate the settings once, at start.

    With ``read_secrets=False`` no secret file is read and no credential needs to exist (secrets stay
    empty): for printing an instance's deployment files on a machine that does not hold its secrets.
    """
    raw: dict[str, dict[str, Any]] = {}
    _overlay(raw, _read_toml(default_file or default_config_path()), default_file or default_config_path())
    if instance_file is not None:
        _overlay(raw, _read_toml(instance_file), instance_file)
    env = dict(environ or {})
    _overlay(raw, _from_environ(env), Path.cwd() / "environment")
    credentials = _resolve_credentials(raw, env.get(CREDENTIALS_ENV, ""), required=read_secrets)
    _read_secret_files(raw, read=read_secrets)
    sections: dict[str, Any] = {}
    hints = _hints(Settings)
    for name, section_raw in raw.items():
        sections[name] = _build_section(name, hints[name], section_raw)
    master_key = env.get(MASTER_KEY_ENV, "") if read_secrets else ""
    settings = Settings(**sections, master_key=master_key, credentials=credentials)
    _check(settings)
    return settings


def _check_send_lease(settings: Settings) -> None:
    """A send in flight is held longer than any sender may take to answer, and no longer than the unconfirmed wait."""
    lease = settings.outbox.send_lease_seconds
    longest = max(settings.sms.request_timeout_seconds, settings.email.relay_timeout_seconds)
    if not longest < lease <= settings.outbox.unconfirmed_wait_seconds:
        raise ConfigError(
            "outbox.send_lease_seconds: must be above sms.request_timeout_seconds and email.relay_timeout_seconds,"
            " and at most outbox.unconfirmed_wait_seconds"
        )


def check_database_url(storage: StorageSettings) -> None:
    """A PostgreSQL URL, when one is set, that holds no password; the pool sizes and timeout in range."""
    url = storage.database_url
    if not url:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigError("storage.database_url: must be empty (SQLite) or start with postgresql://")
    if parts.password:
        raise ConfigError(
            "storage.database_url: keep the password out of the URL (storage.database_password_file or PGPASSWORD)"
        )
    if not 1 <= storage.pool_min <= storage.pool_max:
        raise ConfigError("storage.pool_min: must be at least 1 and at most storage.pool_max")
    if storage.events_poll_seconds <= 0:
        raise ConfigError("storage.events_poll_seconds: must be more than 0")
    if storage.statement_timeout_seconds <= 0:
        raise ConfigError("storage.statement_timeout_seconds: must be more than 0")


def _check_console(console: ConsoleSettings) -> None:
    for name in ("outcomes", "contact_types", "missing_types"):
        codes = [item.code for item in getattr(console, name)]
        if len(codes) != len(set(codes)):
            raise ConfigError(f"console.{name}: codes must be unique")
    if console.away_after_seconds < 30:
        raise ConfigError("console.away_after_seconds: must be at least 30")


def _check_safeguarding(guard: SafeguardingSettings) -> None:
    if guard.oncall_channel not in ("", "sms", "email"):
        raise ConfigError("safeguarding.oncall_channel: must be sms, email or empty")
    if guard.oncall_channel and not guard.oncall_address:
        raise ConfigError("safeguarding.oncall_address: needed when oncall_channel is set")
    if guard.ack_seconds < 1:
        raise ConfigError("safeguarding.ack_seconds: must be at least 1")
    if guard.meaning_queue < 1:
        raise ConfigError("safeguarding.meaning_queue: must be at least 1")


def _check_auth(auth: AuthSettings) -> None:
    if auth.lock_after < 1 or auth.network_failures < 1 or auth.throttle_after < 0:
        raise ConfigError("auth.lock_after, network_failures: must be at least 1; throttle_after: 0 or more")
    if auth.lock_minutes <= 0 or auth.network_window_minutes <= 0 or auth.trusted_proxy_hops < 0:
        raise ConfigError("auth.lock_minutes, network_window_minutes: must be above 0; trusted_proxy_hops: 0 or more")


def _check_server(server: ServerSettings) -> None:
    if not 0 <= server.port <= 65535:
        raise ConfigError("server.port: must be between 0 and 65535")
    if server.header_timeout_seconds <= 0 or server.body_timeout_seconds <= 0:
        raise ConfigError("server.header_timeout_seconds, body_timeout_seconds: must be above 0")


def _check_reports(reports: ReportsSettings) -> None:
    if reports.small_number_threshold < 0:
        raise ConfigError("reports.small_number_threshold: must be 0 or more")


def _check(settings: Settings) -> None:
    """Range and choice checks that types alone cannot express."""
    _check_server(settings.server)
    if settings.storage.synchronous.upper() not in {"NORMAL", "FULL", "EXTRA"}:
        raise ConfigError("storage.synchronous: must be NORMAL, FULL or EXTRA")
    if settings.storage.max_batch < 1:
        raise ConfigError("storage.max_batch: must be at least 1")
    check_database_url(settings.storage)
    if settings.log.level.lower() not in {"debug", "info", "warning", "error"}:
        raise ConfigError("log.level: must be debug, info, warning or error")
    _check_sms(settings.sms)
    if settings.outbox.max_attempts < 1:
        raise ConfigError("outbox.max_attempts: must be at least 1")
    _check_send_lease(settings)
    _check_console(settings.console)
    _check_safeguarding(settings.safeguarding)
    _check_reports(settings.reports)
    if settings.routing.max_concurrent < 1:
        raise ConfigError("routing.max_concurrent: must be at least 1")
    if any(role not in ("volunteer", "supervisor", "admin") for role in settings.auth.require_totp_for):
        raise ConfigError("auth.require_totp_for: roles are volunteer, supervisor and admin")
    _check_auth(settings.auth)
    try:
        ZoneInfo(settings.hours.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("hours.timezone: not a known time zone (e.g. Europe/London)") from None
    _check_webchat(settings.webchat)
    _check_email(settings.email)
    _check_retention(settings.retention, settings.sms)


def _check_sms(sms: SmsSettings) -> None:
    if sms.max_body_chars < 1:
        raise ConfigError("sms.max_body_chars: must be at least 1")
    if sms.orphan_after_seconds <= 0:
        raise ConfigError("sms.orphan_after_seconds: must be more than 0")
    if sms.route_at_once < 0:
        raise ConfigError("sms.route_at_once: must be 0 or more")


def _check_retention(retention: RetentionSettings, sms: SmsSettings) -> None:
    days = ("transcript_days", "record_days", "safeguarding_days", "inbound_key_days")
    for name in ("vault_grace_minutes", *days):
        if getattr(retention, name) < 0:
            raise ConfigError(f"retention.{name}: must be 0 or more")
    if retention.vault_grace_minutes > retention.transcript_days * 24 * 60:
        raise ConfigError("retention.vault_grace_minutes: must not be longer than retention.transcript_days")
    if retention.purge_interval_minutes <= 0 or retention.purge_batch_size < 1:
        raise ConfigError("retention.purge_interval_minutes, purge_batch_size: must be above 0")
    timings = ("delete_retry_seconds", "delete_retry_max_seconds", "delete_give_up_hours", "delete_poll_seconds")
    if any(getattr(sms, name) <= 0 for name in timings):
        raise ConfigError("sms.delete_retry_seconds, delete_retry_max_seconds, delete_give_up_hours: must be above 0")


def _check_email(mail: EmailSettings) -> None:
    mailbox = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
    if not 0 <= mail.smtp_port <= 65535:
        raise ConfigError("email.smtp_port: must be between 0 and 65535")
    if not 0 < mail.relay_port <= 65535:
        raise ConfigError("email.relay_port: must be between 1 and 65535")
    if mail.max_message_bytes < 1024:
        raise ConfigError("email.max_message_bytes: must be at least 1024")
    if mail.max_body_chars < 1:
        raise ConfigError("email.max_body_chars: must be at least 1")
    if mail.relay_timeout_seconds <= 0:
        raise ConfigError("email.relay_timeout_seconds: must be above 0")
    if (mail.tls_cert_file == Path()) != (mail.tls_key_file == Path()):
        raise ConfigError("email.tls_cert_file: set it and email.tls_key_file together, or neither")
    for address in mail.addresses:
        if not mailbox.match(address):
            raise ConfigError(f"email.addresses: {address!r} is not an email address")
    if mail.from_address and not (mailbox.match(mail.from_address) and mail.from_address.isascii()):
        raise ConfigError("email.from_address: must be a plain ASCII email address such as help@example.org")
    if mail.enabled and not mail.addresses:
        raise ConfigError("email.addresses: list at least one address when email is enabled")


def _check_webchat(chat: WebchatSettings) -> None:
    if not re.match(r"^https?://[^\s/]+", chat.exit_url):
        raise ConfigError("webchat.exit_url: must be an http(s) URL")
    for origin in chat.frame_ancestors:
        if not re.match(r"^https?://[A-Za-z0-9.-]+(:\d+)?$", origin):
            raise ConfigError(f"webchat.frame_ancestors: {origin!r} is not an origin like https://www.example.org")
    limits = (
        "max_message_chars",
        "max_concurrent",
        "session_messages_per_minute",
        "network_messages_per_minute",
        "network_chats_per_hour",
        "network_connections",
        "network_live_chats",
    )
    for name in limits:
        if getattr(chat, name) < 1:
            raise ConfigError(f"webchat.{name}: must be at least 1")
    if chat.first_message_grace_seconds <= 0:
        raise ConfigError("webchat.first_message_grace_seconds: must be above 0")
    if not 0 < chat.idle_warning_seconds < chat.idle_timeout_seconds:
        raise ConfigError("webchat.idle_warning_seconds: must be above 0 and below idle_timeout_seconds")
    if chat.heartbeat_seconds < 1 or chat.session_max_hours <= 0 or chat.trusted_proxy_hops < 0:
        raise ConfigError("webchat.heartbeat_seconds, session_max_hours, trusted_proxy_hops: out of range")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def _overlay(raw: dict[str, dict[str, Any]], layer: dict[str, Any], origin: Path) -> None:
    known = known_settings()
    for section, values in layer.items():
        if section not in known:
            raise ConfigError(f"unknown config section [{section}] in {origin.name}")
        if not isinstance(values, dict):
            raise ConfigError(f"[{section}] must be a table in {origin.name}")
        for key, value in values.items():
            if key not in known[section]:
                raise ConfigError(f"unknown setting {section}.{key} in {origin.name}")
            raw.setdefault(section, {})[key] = _resolve_path(value, origin) if _is_path(section, key) else value


def _is_path(section: str, key: str) -> bool:
    section_type = _hints(Settings)[section]
    hint = _hints(section_type).get(key)
    return hint is Path or key in _secret_companions(section)


def _resolve_path(value: Any, origin: Path) -> Any:
    if isinstance(value, str) and value and not Path(value).is_absolute() and not value.startswith(CREDENTIAL_PREFIX):
        return str(origin.resolve().parent / value)
    return value


def _from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    layer: dict[str, dict[str, Any]] = {}
    for name, text in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name or name == MASTER_KEY_ENV:
            continue
        section, _, key = name[len(ENV_PREFIX) :].partition("__")
        section, key = section.lower(), key.lower()
        layer.setdefault(section, {})[key] = _env_value(text, textual=_is_text(section, key))
    return layer


def _is_text(section: str, key: str) -> bool:
    section_type = _hints(Settings).get(section)
    if section_type is None:
        return False
    return key in _secret_companions(section) or _hints(section_type).get(key) in (str, Path)


def _env_value(text: str, *, textual: bool) -> Any:
    """TOML when it parses as TOML; but a text setting keeps its text (``+447700900001`` is not a number)."""
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    return text if textual and not isinstance(value, str) else value


def _secret_companions(section: str) -> set[str]:
    """``<key>_file`` names of the section's secret settings (those kept out of ``repr``)."""
    section_type = _hints(Settings)[section]
    return {f"{f.name}_file" for f in dataclasses.fields(section_type) if not f.repr}


def _resolve_credentials(raw: dict[str, dict[str, Any]], directory: str, *, required: bool) -> tuple[str, ...]:
    """Turn each ``credential:NAME`` file setting into a path in the credentials directory; returns the names."""
    names: set[str] = set()
    for section, values in raw.items():
        for key, value in values.items():
            if not (isinstance(value, str) and value.startswith(CREDENTIAL_PREFIX) and _is_path(section, key)):
                continue
            name = value.removeprefix(CREDENTIAL_PREFIX)
            if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name):
                raise ConfigError(f"{section}.{key}: a credential name is letters, digits, '.', '_' and '-'")
            if not directory and required:
                raise ConfigError(
                    f"{section}.{key}: names the systemd credential {name}, but ${CREDENTIALS_ENV} is not set"
                    " (run the server from its systemd unit, and a command as deploy/README.md shows)"
                )
            names.add(name)
            values[key] = str(Path(directory or f"${CREDENTIALS_ENV}") / name)
    return tuple(sorted(names))


def _read_secret_files(raw: dict[str, dict[str, Any]], *, read: bool = True) -> None:
    for section, values in raw.items():
        for key in [k for k in values if k in _secret_companions(section)]:
            path = values.pop(key)
            if not path:
                continue
            if not read:
                values[key.removesuffix("_file")] = UNREAD_SECRET
                continue
            try:
                values[key.removesuffix("_file")] = Path(path).read_text(encoding="utf-8").strip()
            except OSError:
                raise ConfigError(f"{section}.{key}: cannot read the file it names") from None


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _build_section(section: str, section_type: type, values: dict[str, Any]) -> Any:
    hints = _hints(section_type)
    converted = {key: _convert(f"{section}.{key}", hints[key], value) for key, value in values.items()}
    return section_type(**converted)


def _convert(name: str, hint: Any, value: Any) -> Any:  # noqa: PLR0911, PLR0912 - one branch per setting type
    origin = typing.get_origin(hint)
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    elif hint is Path:
        if isinstance(value, str):
            return Path(value)
    elif origin is tuple and isinstance(value, list):
        item_type = typing.get_args(hint)[0]
        return tuple(_convert(f"{name}[{i}]", item_type, item) for i, item in enumerate(value))
    elif isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(value, dict):
        item_fields = _hints(hint)
        unknown = set(value) - set(item_fields)
        if unknown:
            raise ConfigError(f"{name}: unknown key {sorted(unknown)[0]}")
        missing = {f.name for f in dataclasses.fields(hint)} - set(value)
        if missing:
            raise ConfigError(f"{name}: missing key {sorted(missing)[0]}")
        return hint(**{k: _convert(f"{name}.{k}", item_fields[k], v) for k, v in value.items()})
    raise ConfigError(f"{name}: expected {_type_name(hint)}, got {type(value).__name__}")


def _type_name(hint: Any) -> str:
    if hint is Path:
        return "a path (string)"
    if typing.get_origin(hint) is tuple:
        return "a list"
    return getattr(hint, "__name__", str(hint))
