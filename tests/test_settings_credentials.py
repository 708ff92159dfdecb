"""Secrets as systemd credentials: a file setting written "credential:NAME" reads $CREDENTIALS_DIRECTORY/NAME."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from helpline import cli
from helpline.app import build
from helpline.core.models import Inbound
from helpline.crypto.keyring import Keyring
from helpline.errors import ConfigError
from helpline.settings import UNREAD_SECRET, load
from tests.conftest import FakeClock

INSTANCE = """\
[storage]
key_file = "credential:master.key"

[sms]
auth_token_file = "credential:twilio-auth-token"

[email]
relay_password_file = "credential:relay-password"
"""


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    path = tmp_path / "etc" / "helpline.toml"
    path.parent.mkdir()
    path.write_text(INSTANCE, encoding="utf-8")
    return path


@pytest.fixture
def credentials(tmp_path: Path) -> Path:
    directory = tmp_path / "credentials"
    directory.mkdir()
    Keyring.generate().write_new(directory / "master.key")
    (directory / "twilio-auth-token").write_text("token-from-credential\n", encoding="utf-8")
    (directory / "relay-password").write_text("relay-secret\n", encoding="utf-8")
    return directory


def test_secrets_and_key_file_come_from_the_credentials_directory(instance: Path, credentials: Path) -> None:
    """Each credential:NAME is the file NAME in $CREDENTIALS_DIRECTORY, and the settings list the names."""
    settings = load(instance, {"CREDENTIALS_DIRECTORY": str(credentials)})
    assert settings.sms.auth_token == "token-from-credential"
    assert settings.email.relay_password == "relay-secret"
    assert settings.storage.key_file == credentials / "master.key"
    assert Keyring.load(settings.storage.key_file).current_version == 1
    assert settings.credentials == ("master.key", "relay-password", "twilio-auth-token")


def test_a_credential_outside_systemd_stops_the_start_naming_the_setting(instance: Path) -> None:
    """Without $CREDENTIALS_DIRECTORY, a setting naming a credential is a clear configuration error."""
    with pytest.raises(ConfigError, match=r"storage\.key_file: names the systemd credential master\.key"):
        load(instance, {})


def test_a_missing_credential_stops_the_start(instance: Path, credentials: Path) -> None:
    """A credential systemd did not provide is named in the error, like any unreadable secret file."""
    (credentials / "relay-password").unlink()
    with pytest.raises(ConfigError, match=r"email\.relay_password_file: cannot read"):
        load(instance, {"CREDENTIALS_DIRECTORY": str(credentials)})


def test_a_credential_name_cannot_leave_the_directory(tmp_path: Path, credentials: Path) -> None:
    """credential:../x is refused: a name is one file in the credentials directory."""
    instance = tmp_path / "helpline.toml"
    instance.write_text('[sms]\nauth_token_file = "credential:../master.key"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sms\.auth_token_file: a credential name"):
        load(instance, {"CREDENTIALS_DIRECTORY": str(credentials)})


def test_credentials_can_come_from_the_environment(tmp_path: Path, credentials: Path) -> None:
    """HELPLINE_SMS__AUTH_TOKEN_FILE=credential:NAME works as in the instance file."""
    environ = {
        "CREDENTIALS_DIRECTORY": str(credentials),
        "HELPLINE_SMS__AUTH_TOKEN_FILE": "credential:twilio-auth-token",
    }
    assert load(None, environ).sms.auth_token == "token-from-credential"


def test_settings_can_be_read_without_their_secrets(instance: Path) -> None:
    """read_secrets=False opens no secret and needs no credential, but still lists the credentials named."""
    settings = load(instance, {}, read_secrets=False)
    assert settings.sms.auth_token == UNREAD_SECRET
    assert settings.credentials == ("master.key", "relay-password", "twilio-auth-token")


async def test_key_rotation_as_deploy_readme_shows_it(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rotating against a writable copy of the credentials, then putting the key back: everything still opens."""
    stored = tmp_path / "etc-credentials"
    stored.mkdir()
    (data_dir / "master.key").rename(stored / "master.key")
    config = data_dir / "helpline.toml"
    config.write_text(config.read_text().replace('key_file = "master.key"', 'key_file = "credential:master.key"'))
    settings = load(config, {"CREDENTIALS_DIRECTORY": str(stored)})
    helpline = build(settings, FakeClock())
    await helpline.store.open()
    try:
        await helpline.conversations.receive(Inbound("sms", "+447700900321", "SM" + "d" * 32, "rotate me"))
    finally:
        await helpline.store.close()

    writable = tmp_path / "run-keys"
    shutil.copytree(stored, writable)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(writable))
    assert await asyncio.to_thread(cli.main, ["keys", "rotate", "--config", str(config)]) == 0
    shutil.copy2(writable / "master.key", stored / "master.key")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(stored))
    assert await asyncio.to_thread(cli.main, ["keys", "verify", "--config", str(config)]) == 0
    assert Keyring.load(stored / "master.key").current_version == 2
