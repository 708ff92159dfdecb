"""Settings: defaults documented, instance overlay, environment overrides, and clear refusals."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from helpline.errors import ConfigError
from helpline.settings import default_config_path, known_settings, load

DEFAULT = default_config_path()


def test_every_setting_is_in_default_toml_with_a_comment() -> None:
    """Every setting the loader knows appears in config/default.toml, each with a comment line above it."""
    text = DEFAULT.read_text()
    parsed = tomllib.loads(text)
    lines = text.splitlines()
    for section, keys in known_settings().items():
        for key in keys:
            if key.endswith("_file"):
                continue  # secret-file companions are described by their secret's comment
            assert key in parsed.get(section, {}), f"{section}.{key} is missing from config/default.toml"
            index = next(i for i, line in enumerate(lines) if re.match(rf"^{re.escape(key)}\s*=", line))
            assert lines[index - 1].startswith("#"), f"{section}.{key} has no comment"


def test_default_toml_loads_without_overrides() -> None:
    """The shipped defaults load cleanly."""
    settings = load(environ={})
    assert settings.server.port == 8080
    assert settings.storage.synchronous == "FULL"


def test_instance_file_overlays_defaults(tmp_path: Path) -> None:
    """An instance file overrides only what it sets; its relative paths are relative to it."""
    instance = tmp_path / "instance.toml"
    instance.write_text('[server]\nport = 9000\n[storage]\ndatabase = "db/h.db"\n')
    settings = load(instance, environ={})
    assert settings.server.port == 9000
    assert settings.server.host == "127.0.0.1"
    assert settings.storage.database == tmp_path / "db" / "h.db"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("HELPLINE_SERVER__PORT", "8181", 8181),
        ("HELPLINE_SERVER__TLS", "true", True),
        ("HELPLINE_SMS__FROM_NUMBER", "+447700900001", "+447700900001"),
        ("HELPLINE_HELPLINE__GREETING", "Hello there", "Hello there"),
        ("HELPLINE_SMS__ACCOUNT_SID", '"AC123"', "AC123"),
    ],
)
def test_environment_overrides(name: str, value: str, expected: object) -> None:
    """HELPLINE_<SECTION>__<KEY> is read as TOML when it parses, otherwise as text."""
    settings = load(environ={name: value})
    section, key = name.removeprefix("HELPLINE_").lower().split("__")
    assert getattr(getattr(settings, section), key) == expected


def test_environment_list_of_tables() -> None:
    """A TOML array from the environment replaces a list setting."""
    settings = load(environ={"HELPLINE_CONSOLE__OUTCOMES": '[{code = "a", label = "A"}]'})
    assert [o.code for o in settings.console.outcomes] == ["a"]


def test_secret_from_file(tmp_path: Path) -> None:
    """sms.auth_token_file supplies sms.auth_token."""
    secret = tmp_path / "token"
    secret.write_text("s3cret-token\n")
    settings = load(environ={"HELPLINE_SMS__AUTH_TOKEN_FILE": str(secret)})
    assert settings.sms.auth_token == "s3cret-token"
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"HELPLINE_SERVER__PORTT": "1"}, "server.portt"),
        ({"HELPLINE_NOPE__X": "1"}, "[nope]"),
        ({"HELPLINE_SERVER__PORT": "eighty"}, "server.port"),
        ({"HELPLINE_SERVER__PORT": "70000"}, "server.port"),
        ({"HELPLINE_STORAGE__SYNCHRONOUS": "OFF"}, "storage.synchronous"),
        ({"HELPLINE_SMS__ROUTE_AT_ONCE": "-1"}, "sms.route_at_once"),
        ({"HELPLINE_CONSOLE__OUTCOMES": '[{code = "a"}]'}, "console.outcomes[0]"),
        ({"HELPLINE_SMS__AUTH_TOKEN_FILE": "/nonexistent/token"}, "sms.auth_token_file"),
        ({"HELPLINE_STORAGE__DATABASE_URL": "mysql://db/helpline"}, "storage.database_url"),
        ({"HELPLINE_STORAGE__DATABASE_URL": "postgresql://helpline:secret@db/helpline"}, "storage.database_url"),
        (
            {"HELPLINE_STORAGE__DATABASE_URL": "postgresql://db/h", "HELPLINE_STORAGE__POOL_MIN": "0"},
            "storage.pool_min",
        ),
    ],
)
def test_bad_settings_stop_the_start_naming_the_key(environ: dict[str, str], named: str) -> None:
    """Unknown keys and bad values raise ConfigError naming the setting."""
    with pytest.raises(ConfigError) as raised:
        load(environ=environ)
    assert named in str(raised.value)


def test_unknown_key_in_instance_file(tmp_path: Path) -> None:
    """A typo in an instance file names the key and the file."""
    instance = tmp_path / "helpline.toml"
    instance.write_text("[sms]\nfrom_numbr = '+1'\n")
    with pytest.raises(ConfigError, match=r"sms\.from_numbr in helpline\.toml"):
        load(instance, environ={})


def test_invalid_toml(tmp_path: Path) -> None:
    """A config file that is not TOML is a clear error."""
    instance = tmp_path / "broken.toml"
    instance.write_text("[server\nport=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(instance, environ={})


def test_database_password_from_file(tmp_path: Path) -> None:
    """storage.database_password_file supplies the PostgreSQL password, which never shows in the settings' repr."""
    secret = tmp_path / "db-password"
    secret.write_text("s3cret-pg-password\n")
    environ = {
        "HELPLINE_STORAGE__DATABASE_URL": "postgresql://helpline@db.example.org:5432/helpline?sslmode=require",
        "HELPLINE_STORAGE__DATABASE_PASSWORD_FILE": str(secret),
    }
    settings = load(environ=environ)
    assert settings.storage.database_password == "s3cret-pg-password"
    assert "s3cret" not in repr(settings)
