"""A real deployment on loopback: `helpline serve` with systemd-style credentials, behind real nginx or Caddy.

The server runs as a subprocess from an instance file that names its master key and Twilio token as
credentials (read from ``$CREDENTIALS_DIRECTORY``, as under its systemd unit). The proxy's configuration is
what `helpline deploy nginx|caddy` prints for that instance, with TLS from a self-signed certificate for
127.0.0.1; only its client timeouts are shortened (10 s to 2 s) so the slow-client tests finish quickly.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from helpline import cli
from helpline.testing.twilio_api import FakeTwilio
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, HELPLINE_NUMBER, PASSWORD
from tests.proxy_traffic import VOLUNTEER

# The proxies' client timeouts in the tests (10 s as printed).
SHORT_TIMEOUT = "2s"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, made here; returns their paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def client_tls(cert_file: Path) -> ssl.SSLContext:
    """A client that trusts only the test certificate."""
    return ssl.create_default_context(cafile=str(cert_file))


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}: {log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}: {log.read_text(errors='replace')[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def helpline_command(*argv: str) -> str:
    """Run a `helpline` command in this process; returns what it printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert cli.main(list(argv)) == 0
    return printed.getvalue()


@dataclass
class Server:
    """`helpline serve` as its systemd unit runs it: secrets from the credentials directory only."""

    root: Path
    twilio_url: str
    public_url: str
    port: int = field(default_factory=free_port)
    webchat: str = ""  # more [webchat] settings, as TOML lines
    process: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def credentials(self) -> Path:
        return self.root / "credentials"

    @property
    def config(self) -> Path:
        return self.data_dir / "helpline.toml"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def environ(self) -> dict[str, str]:
        return {**os.environ, "CREDENTIALS_DIRECTORY": str(self.credentials)}

    def prepare(self) -> None:
        """`helpline init`, the key and token moved out of the data directory into credentials, a volunteer."""
        self._helpline("init", "--data-dir", str(self.data_dir))
        self.credentials.mkdir(mode=0o700)
        shutil.move(self.data_dir / "master.key", self.credentials / "master.key")
        (self.credentials / "twilio-auth-token").write_text(AUTH_TOKEN + "\n", encoding="utf-8")
        self.write_config()
        self._helpline(
            "user", "add", VOLUNTEER, "--role", "volunteer", "--password-stdin", "--config", str(self.config),
            stdin=PASSWORD + "\n",
        )  # fmt: skip

    def copy(self, root: Path, twilio_url: str, public_url: str, *, webchat: str = "") -> Server:
        """A prepared instance copied to ``root``, for another proxy and another fake Twilio."""
        shutil.copytree(self.root, root)
        copied = Server(root, twilio_url, public_url, webchat=webchat)
        copied.write_config()
        return copied

    def write_config(self) -> None:
        self.config.write_text(
            f"""\
[server]
port = {self.port}
public_url = "{self.public_url}"
tls = {"true" if self.public_url.startswith("https") else "false"}

[storage]
data_dir = "."
database = "helpline.db"
key_file = "credential:master.key"

[sms]
account_sid = "{ACCOUNT_SID}"
auth_token_file = "credential:twilio-auth-token"
from_number = "{HELPLINE_NUMBER}"
public_base_url = "{self.public_url}"
api_base_url = "{self.twilio_url}"
request_timeout_seconds = 2.0

[webchat]
trusted_proxy_hops = 1
{self.webchat}

[auth]
password_time_cost = 1
password_memory_kib = 1024
""",
            encoding="utf-8",
        )

    def _helpline(self, *argv: str, stdin: str = "") -> None:
        """Run a `helpline` command as the unit's `systemd-run` line would: in its own process, with credentials."""
        done = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            [sys.executable, "-m", "helpline.cli", *argv],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.environ,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
                [sys.executable, "-m", "helpline.cli", "serve", "--config", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.environ,
            )
        wait_for_port(self.port, self.process, self.log)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)


def prepared_server(root: Path) -> Server:
    """An instance made once per test module (`helpline init`, credentials, a volunteer), for tests to copy."""
    server = Server(root / "server", "http://127.0.0.1:9", "https://127.0.0.1:9")
    server.root.mkdir()
    server.prepare()
    return server


@dataclass
class Proxy:
    """nginx or Caddy, run in the foreground from a scratch directory, with the configuration printed for it."""

    kind: str
    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    config_text: str = ""

    @property
    def log(self) -> Path:
        return self.root / "proxy.log"

    def logs(self) -> dict[str, str]:
        """Every file the proxy wrote under its directory (logs, pid, state), by relative path."""
        written = {}
        for path in self.root.rglob("*"):
            if path.is_file() and path.suffix not in (".pem", ".conf") and path.name != "Caddyfile":
                written[str(path.relative_to(self.root))] = path.read_text(errors="replace")
        return written

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self._command(), stdout=log, stderr=subprocess.STDOUT, env=self._environ())  # noqa: S603 - fixed programs
        wait_for_port(self.port, self.process, self.log)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)

    def _command(self) -> list[str]:
        if self.kind == "nginx":
            nginx = shutil.which("nginx") or "/usr/sbin/nginx"
            return [
                nginx,
                "-p",
                str(self.root),
                "-c",
                str(self.root / "nginx.conf"),
                "-e",
                str(self.root / "logs" / "startup.log"),
            ]
        return ["caddy", "run", "--config", str(self.root / "Caddyfile"), "--adapter", "caddyfile"]

    def _environ(self) -> dict[str, str]:
        home = self.root / "home"
        return {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home), "XDG_CONFIG_HOME": str(home)}


def shorten_timeouts(config: str, names: tuple[str, ...]) -> str:
    """The printed configuration with its client timeouts at 2 s (each must be there to be shortened)."""
    for name in names:
        assert f"{name} 10s" in config, name
        config = config.replace(f"{name} 10s", f"{name} {SHORT_TIMEOUT}")
    return config


def nginx_in_front(root: Path, server: Server, port: int, cert: Path, key: Path) -> Proxy:
    """nginx with the site `helpline deploy nginx` prints, inside a main configuration like Debian's."""
    root.mkdir()
    (root / "logs").mkdir()
    site = helpline_command(
        "deploy", "nginx", "--config", str(server.config), "--tls-cert", str(cert), "--tls-key", str(key),
        "--log-dir", str(root / "logs"),
    )  # fmt: skip
    site = shorten_timeouts(site, ("client_header_timeout", "client_body_timeout"))
    (root / "helpline.conf").write_text(site, encoding="utf-8")
    user = "user root;" if os.geteuid() == 0 else ""
    temp = " ".join(f"{kind}_temp_path {root}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # The main configuration keeps Debian's defaults that matter here: an access log in the combined format
    # (with addresses and user agents) and an error log for everything else, here at its most detailed level.
    (root / "nginx.conf").write_text(
        f"""\
daemon off;
{user}
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/logs/error.log info;
events {{ worker_connections 128; }}
http {{
    {temp}
    access_log {root}/logs/access.log combined;
    include {root}/helpline.conf;
}}
""",
        encoding="utf-8",
    )
    return Proxy("nginx", root, port, config_text=site)


def caddy_in_front(root: Path, server: Server, port: int, cert: Path, key: Path) -> Proxy:
    """Caddy with the Caddyfile `helpline deploy caddy` prints; its admin API and port-80 redirect turned off."""
    root.mkdir()
    caddyfile = helpline_command(
        "deploy", "caddy", "--config", str(server.config), "--tls-cert", str(cert), "--tls-key", str(key)
    )
    caddyfile = shorten_timeouts(caddyfile, ("read_header", "read_body"))
    assert caddyfile.count("\n{\n") == 1
    caddyfile = caddyfile.replace("\n{\n", "\n{\n\tadmin off\n\tauto_https disable_redirects\n", 1)
    (root / "Caddyfile").write_text(caddyfile, encoding="utf-8")
    return Proxy("caddy", root, port, config_text=caddyfile)


@contextlib.contextmanager
def running(*parts: Server | Proxy) -> Iterator[None]:
    try:
        for part in parts:
            part.start()
        yield
    finally:
        for part in reversed(parts):
            part.stop()


@dataclass
class Deployment:
    """A prepared instance served behind a proxy, with the fake Twilio it sends to and a client trusting its TLS."""

    server: Server
    proxy: Proxy
    twilio: FakeTwilio
    tls: ssl.SSLContext

    @property
    def public_url(self) -> str:
        return self.server.public_url

    def server_saw(self, route: str) -> bool:
        """Whether the server's log has a request for ``route``."""
        return f'"route": "{route}"' in self.server.log.read_text()


@contextlib.asynccontextmanager
async def deployed(kind: str, prepared: Server, root: Path, *, webchat: str = "") -> AsyncIterator[Deployment]:
    """A copy of ``prepared`` running behind nginx or Caddy (``kind``), on fresh ports under ``root``."""
    async with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as twilio:
        port = free_port()
        cert, key = self_signed(root)
        server = prepared.copy(root / "server", twilio.base_url, f"https://127.0.0.1:{port}", webchat=webchat)
        in_front = nginx_in_front if kind == "nginx" else caddy_in_front
        proxy = in_front(root / kind, server, port, cert, key)
        with running(server, proxy):
            yield Deployment(server, proxy, twilio, client_tls(cert))
