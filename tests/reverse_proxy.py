"""A real deployment on loopback: `helpline serve` with systemd-style credentials, behind real nginx or Caddy.

The server runs as a subprocess from an instance file that names its master key and Twilio token as
credentials (read from ``$CREDENTIALS_DIRECTORY``, as under its systemd unit). The proxy's configuration is
what `helpline deploy nginx|caddy` prints for that instance, with TLS from a self-signed certificate for
127.0.0.1; only its client timeouts are shortened (10 s to 2 s) so the slow-client tests finish quickly.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import io
import ipaddress
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from helpline import cli
from helpline.testing.twilio_api import FakeTwilio
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, HELPLINE_NUMBER, PASSWORD
from tests.test_canary import number_forms, text_forms

# What a contact's connection carries that must never be written down anywhere.
CANARY_FORWARDED = "198.51.100.77"
CANARY_AGENT = "CanaryBrowser/7.7 (canary-agent-5f1e)"
CANARY_QUERY = "canary-query-9c2d"
CANARY_NUMBER = "+447700900456"
CANARY_TEXT = "CANARY-TEXT my brother Sam has not come home"
CANARY_CHAT = "CANARY-CHAT I am scared to go back"
CANARY_FORM = "CANARY-FORM nobody knows I am writing"
SHORT_TIMEOUT = "2s"
VOLUNTEER = "vera"


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

    def copy(self, root: Path, twilio_url: str, public_url: str) -> Server:
        """A prepared instance copied to ``root``, for another proxy and another fake Twilio."""
        shutil.copytree(self.root, root)
        copied = Server(root, twilio_url, public_url)
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


async def read_until_closed(reader: asyncio.StreamReader, seconds: float) -> tuple[bytes, float]:
    """Everything the other side sends until it closes, and how long that took (fails after ``seconds``)."""
    started = time.monotonic()
    received = b""
    async with asyncio.timeout(seconds):
        while chunk := await reader.read(4096):
            received += chunk
    return received, time.monotonic() - started


class Browser:
    """A browser (or Twilio) reaching the helpline through the proxy, carrying the canary address and agent."""

    def __init__(self, public_url: str, tls: ssl.SSLContext) -> None:
        self.public_url = public_url
        self.tls = tls
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=tls),
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # the site's address is 127.0.0.1
            headers={"User-Agent": CANARY_AGENT, "X-Forwarded-For": CANARY_FORWARDED, "Origin": public_url},
            timeout=aiohttp.ClientTimeout(total=10),
        )
        self.csrf = ""

    async def close(self) -> None:
        await self.session.close()

    async def text(self, twilio: FakeTwilio, sender: str, body: str, *, signed_for: str = "") -> int:
        """POST an inbound SMS webhook signed for ``signed_for`` (the public URL by default); its status."""
        params = twilio.inbound_sms_params(sender, HELPLINE_NUMBER, body)
        path = "/webhooks/twilio/sms"
        signature = twilio.sign((signed_for or self.public_url) + path, params)
        async with self.session.post(
            self.public_url + path, data=params, headers={"X-Twilio-Signature": signature}
        ) as response:
            return response.status

    async def login(self, username: str) -> None:
        async with self.session.post(
            f"{self.public_url}/api/login", json={"username": username, "password": PASSWORD}
        ) as response:
            assert response.status == 200, await response.text()
            self.csrf = (await response.json())["csrf_token"]

    async def get_json(self, path: str) -> Any:
        async with self.session.get(f"{self.public_url}{path}?{CANARY_QUERY}=1") as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def post_json(self, path: str, payload: dict[str, Any]) -> Any:
        async with self.session.post(
            f"{self.public_url}{path}?{CANARY_QUERY}=1", json=payload, headers={"X-CSRF-Token": self.csrf}
        ) as response:
            assert response.status in (200, 201), await response.text()
            return await response.json()

    async def form(self, path: str, fields: dict[str, str]) -> str:
        async with self.session.post(
            f"{self.public_url}{path}?{CANARY_QUERY}=1", data=fields, headers={"Sec-Fetch-Site": "same-origin"}
        ) as response:
            assert response.status == 200, await response.text()
            return await response.text()

    async def socket(self, path: str) -> aiohttp.ClientWebSocketResponse:
        return await self.session.ws_connect(
            f"{self.public_url}{path}?{CANARY_QUERY}=1", timeout=aiohttp.ClientWSTimeout(ws_close=5)
        )


async def next_frame(ws: aiohttp.ClientWebSocketResponse, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The next frame ``wanted`` accepts, within 10 s."""
    async with asyncio.timeout(10):
        while True:
            message = await ws.receive()
            assert message.type == aiohttp.WSMsgType.TEXT, f"socket closed: {message.type} {message.extra}"
            frame: dict[str, Any] = json.loads(message.data)
            if wanted(frame):
                return frame


def hidden(html: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', html)
    assert match, f"no hidden {name} field"
    return match.group(1)


async def eventually(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 10.0) -> None:
    """Wait (polling) for something the running server does by itself, such as sending its outbox."""
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def whole_path(public_url: str, tls: ssl.SSLContext, twilio: FakeTwilio) -> None:
    """Everything a contact, Twilio and a volunteer do, through the proxy, with the canaries on every request."""
    volunteer, contact = Browser(public_url, tls), Browser(public_url, tls)
    try:
        await volunteer.login(VOLUNTEER)
        console = await volunteer.socket("/console/ws")  # a WebSocket upgrade through the proxy
        assert (await next_frame(console, lambda frame: True))["type"] == "hello"

        assert await contact.text(twilio, CANARY_NUMBER, CANARY_TEXT) == 200
        await next_frame(console, lambda frame: frame.get("type") != "hello")  # the queue changed, live
        [waiting] = (await volunteer.get_json("/api/queue"))["conversations"]
        await volunteer.post_json(f"/api/conversations/{waiting['id']}/claim", {})
        await volunteer.post_json(f"/api/conversations/{waiting['id']}/messages", {"body": "We are here for you."})

        def replies() -> list[str]:
            return [sid for sid, m in twilio.messages.items() if m["direction"] == "outbound-api"]

        async def sent() -> bool:
            return len(replies()) >= 2  # the greeting and the reply

        await eventually(sent, "the server did not send the greeting and the reply to Twilio")
        for sid in replies():  # Twilio's signed status callbacks, through the proxy to the public URL
            assert await twilio.send_status_callback(contact.session, sid, "delivered") == 200

        chat = await contact.socket("/chat/ws")  # the web chat's socket
        await chat.send_json({"type": "hello", "token": None, "after": 0})
        await next_frame(chat, lambda frame: frame["type"] == "welcome")
        await chat.send_json({"type": "message", "id": "canary-chat-1", "body": CANARY_CHAT})
        ack = await next_frame(chat, lambda frame: frame["type"] in ("ack", "error"))
        assert ack["type"] == "ack", ack
        await chat.close()

        page = await (await contact.session.get(f"{public_url}/chat?{CANARY_QUERY}=1")).text()
        fields = {"token": "", "message_id": hidden(page, "message_id"), "body": CANARY_FORM}
        page = await contact.form("/chat/send", fields)  # the chat without JavaScript
        token = hidden(page, "token")
        assert CANARY_FORM in page
        await contact.form("/chat/refresh", {"token": token})
        await contact.form("/chat/end", {"token": token})
        await console.close()
    finally:
        await volunteer.close()
        await contact.close()


def canaries() -> list[str]:
    """Every canary in every form it could be written in (as in tests/test_canary.py)."""
    found = [CANARY_FORWARDED, CANARY_AGENT, "canary-agent", CANARY_QUERY, "CanaryBrowser"]
    found += number_forms(CANARY_NUMBER)
    for text in (CANARY_TEXT, CANARY_CHAT, CANARY_FORM):
        found += text_forms(text)
    return found


def written_by(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def hits(files: dict[str, bytes], needles: list[str]) -> list[tuple[str, str]]:
    """(file, needle) for every needle found in a file."""
    return [(name, needle) for name, data in files.items() for needle in needles if needle.encode() in data]


async def rude_clients(port: int, tls: ssl.SSLContext) -> None:
    """What a proxy logs as errors about a connection: plain HTTP to its TLS port, garbage, a dropped handshake."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /chat?{CANARY_QUERY}=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: {CANARY_AGENT}\r\n\r\n".encode())
    await read_until_closed(reader, 10.0)
    writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"\x16\x03\x01\x00\x05garbage-not-a-handshake")
    await read_until_closed(reader, 10.0)
    writer.close()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"\x16\x03\x01")  # half a TLS record, then gone
    _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls)
    writer.transport.abort()


def client_ports(text: str, *known: int) -> set[str]:
    """Ports of 127.0.0.1 written in ``text`` other than ``known`` ones: a client's own, which names it."""
    return set(re.findall(r"127\.0\.0\.1:(\d+)", text)) - {str(port) for port in known}
