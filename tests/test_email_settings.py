"""Email settings: off by default, read from the environment and secret files, and refused when unusable."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpline.app import build
from helpline.errors import ConfigError
from helpline.settings import Settings, load
from tests.conftest import FakeClock


def test_email_is_off_by_default(settings: Settings, clock: FakeClock) -> None:
    """The shipped defaults run no SMTP server."""
    assert load(environ={}).email.enabled is False
    assert build(settings, clock).email_server is None


def test_addresses_and_relay_password_from_environment_and_file(tmp_path: Path) -> None:
    """A list of addresses comes from the environment as TOML; the relay password from a file, out of repr."""
    secret = tmp_path / "relay-password"
    secret.write_text("s3cret-relay\n")
    settings = load(
        environ={
            "HELPLINE_EMAIL__ENABLED": "true",
            "HELPLINE_EMAIL__ADDRESSES": '["help@example.org", "missing@example.org"]',
            "HELPLINE_EMAIL__RELAY_PASSWORD_FILE": str(secret),
        }
    )
    assert settings.email.addresses == ("help@example.org", "missing@example.org")
    assert settings.email.relay_password == "s3cret-relay"
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"HELPLINE_EMAIL__ENABLED": "true"}, "email.addresses"),
        ({"HELPLINE_EMAIL__ADDRESSES": '["not an address"]'}, "email.addresses"),
        ({"HELPLINE_EMAIL__SMTP_PORT": "70000"}, "email.smtp_port"),
        ({"HELPLINE_EMAIL__RELAY_PORT": "0"}, "email.relay_port"),
        ({"HELPLINE_EMAIL__MAX_MESSAGE_BYTES": "10"}, "email.max_message_bytes"),
        ({"HELPLINE_EMAIL__MAX_BODY_CHARS": "0"}, "email.max_body_chars"),
        ({"HELPLINE_EMAIL__RELAY_TIMEOUT_SECONDS": "0"}, "email.relay_timeout_seconds"),
        ({"HELPLINE_EMAIL__TLS_CERT_FILE": "/etc/cert.pem"}, "email.tls_cert_file"),
        ({"HELPLINE_EMAIL__FROM_ADDRESS": "helpline"}, "email.from_address"),
        ({"HELPLINE_EMAIL__ADDRESSES": '"help@example.org"'}, "email.addresses"),
    ],
)
def test_unusable_email_settings_stop_the_start(environ: dict[str, str], named: str) -> None:
    """Each unusable value raises ConfigError naming the setting."""
    with pytest.raises(ConfigError) as raised:
        load(environ=environ)
    assert named in str(raised.value)


def test_unreadable_certificate_stops_the_start(settings: Settings, clock: FakeClock, tmp_path: Path) -> None:
    """A certificate that cannot be loaded is a ConfigError at build, not a failure on the first connection."""
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    broken = settings.replace(
        "email", enabled=True, addresses=("help@example.org",), tls_cert_file=junk, tls_key_file=junk
    )
    with pytest.raises(ConfigError, match=r"email\.tls_cert_file"):
        build(broken, clock)
    with pytest.raises(ConfigError, match=r"email\.relay_ca_file"):
        build(broken.replace("email", tls_cert_file=Path(), tls_key_file=Path(), relay_ca_file=junk), clock)
