"""Settings: frozen dataclasses, one per section of ``config/default.toml``.

Loading order, later wins: ``config/default.toml`` → the instance file given with ``--config`` →
environment variables ``HELPLINE_<SECTION>__<KEY>``. An environment value is read as TOML when it parses
as a TOML value (``8080``, ``true``, ``["a@b.org"]``), otherwise as a plain string; a text setting keeps
its text even when it looks like a number (``+447700900001``). A setting named
``<key>_file`` names a file whose contents become ``<key>`` (for secrets kept out of config files).
Relative paths are resolved against the directory of the file that set them. Unknown keys and values of
the wrong type stop the start with a ``ConfigError`` naming the key.
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpline.errors import ConfigError

ENV_PREFIX = "HELPLINE_"
MASTER_KEY_ENV = "HELPLINE_MASTER_KEY"


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    tls: bool = False


@dataclass(frozen=True)
class StorageSettings:
    data_dir: Path = Path("var")
    database: Path = Path("var/helpline.db")
    key_file: Path = Path("var/master.key")
    synchronous: str = "FULL"
    max_batch: int = 256


@dataclass(frozen=True)
class Outcome:
    code: str
    label: str


@dataclass(frozen=True)
class HelplineSettings:
    name: str = "Helpline"
    greeting: str = ""


@dataclass(frozen=True)
class ConsoleSettings:
    outcomes: tuple[Outcome, ...] = ()
    max_reply_chars: int = 1600


@dataclass(frozen=True)
class AuthSettings:
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    min_password_chars: int = 12


@dataclass(frozen=True)
class SmsSettings:
    enabled: bool = True
    account_sid: str = ""
    auth_token: str = field(default="", repr=False)
    from_number: str = ""
    public_base_url: str = ""
    api_base_url: str = "https://api.twilio.com"
    max_body_chars: int = 1600
    request_timeout_seconds: float = 10.0


@dataclass(frozen=True)
class OutboxSettings:
    max_attempts: int = 8
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 600.0
    unconfirmed_wait_seconds: float = 900.0
    poll_seconds: float = 1.0
    batch_size: int = 50


@dataclass(frozen=True)
class LogSettings:
    level: str = "info"


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = ServerSettings()
    storage: StorageSettings = StorageSettings()
    helpline: HelplineSettings = HelplineSettings()
    console: ConsoleSettings = ConsoleSettings()
    auth: AuthSettings = AuthSettings()
    sms: SmsSettings = SmsSettings()
    outbox: OutboxSettings = OutboxSettings()
    log: LogSettings = LogSettings()
    master_key: str = field(default="", repr=False)

    def replace(self, section: str, **values: Any) -> Settings:
        """A copy with some values of one section changed (for tests and the CLI)."""
        current = getattr(self, section)
        return dataclasses.replace(self, **{section: dataclasses.replace(current, **values)})


def default_config_path() -> Path:
    """``config/default.toml`` of the source tree this package runs from."""
    return Path(__file__).resolve().parent.parent / "config" / "default.toml"


def known_settings() -> dict[str, set[str]]:
    """Every ``section -> keys`` the loader accepts, including ``*_file`` companions of secrets."""
    known: dict[str, set[str]] = {}
    for section in dataclasses.fields(Settings):
        if section.name == "master_key":
            continue
        section_type = _hints(Settings)[section.name]
        keys = {f.name for f in dataclasses.fields(section_type)}
        known[section.name] = keys | _secret_companions(section.name)
    return known


def load(
    instance_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    default_file: Path | None = None,
) -> Settings:
    """Read and validate the settings once, at start."""
    raw: dict[str, dict[str, Any]] = {}
    _overlay(raw, _read_toml(default_file or default_config_path()), default_file or default_config_path())
    if instance_file is not None:
        _overlay(raw, _read_toml(instance_file), instance_file)
    env = dict(environ or {})
    _overlay(raw, _from_environ(env), Path.cwd() / "environment")
    _read_secret_files(raw)
    sections: dict[str, Any] = {}
    hints = _hints(Settings)
    for name, section_raw in raw.items():
        sections[name] = _build_section(name, hints[name], section_raw)
    settings = Settings(**sections, master_key=env.get(MASTER_KEY_ENV, ""))
    _check(settings)
    return settings


def _check(settings: Settings) -> None:
    """Range and choice checks that types alone cannot express."""
    if not 0 <= settings.server.port <= 65535:
        raise ConfigError("server.port: must be between 0 and 65535")
    if settings.storage.synchronous.upper() not in {"NORMAL", "FULL", "EXTRA"}:
        raise ConfigError("storage.synchronous: must be NORMAL, FULL or EXTRA")
    if settings.storage.max_batch < 1:
        raise ConfigError("storage.max_batch: must be at least 1")
    if settings.log.level.lower() not in {"debug", "info", "warning", "error"}:
        raise ConfigError("log.level: must be debug, info, warning or error")
    if settings.sms.max_body_chars < 1:
        raise ConfigError("sms.max_body_chars: must be at least 1")
    if settings.outbox.max_attempts < 1:
        raise ConfigError("outbox.max_attempts: must be at least 1")
    codes = [outcome.code for outcome in settings.console.outcomes]
    if len(codes) != len(set(codes)):
        raise ConfigError("console.outcomes: outcome codes must be unique")


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
    if isinstance(value, str) and value and not Path(value).is_absolute():
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


def _read_secret_files(raw: dict[str, dict[str, Any]]) -> None:
    for section, values in raw.items():
        for key in [k for k in values if k in _secret_companions(section)]:
            path = values.pop(key)
            if not path:
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
