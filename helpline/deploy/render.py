"""Fill in the deployment templates (nginx site, Caddyfile, systemd unit) for one instance.

A template is the file an operator installs, with ``@name@`` where a value of the instance goes, and blocks
kept only when a condition holds::

    #{ tls            kept when the public URL is https
    ...
    #}
    #{ not tls        kept when it is not
    ...
    #}

The values come from the instance's settings (its public URL, the address it listens on, its data
directory, the credentials its file settings name) and a few options of ``helpline deploy``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from helpline.errors import ConfigError
from helpline.settings import CREDENTIALS_ENV, Settings

# The server's limit on a request body (app.py: web.Application(client_max_size=...)); the proxies match it.
MAX_BODY_BYTES = 1024 * 1024
TEMPLATES = {"nginx": "nginx.conf", "caddy": "Caddyfile", "systemd": "helpline.service"}
# Where a credential's path starts when the settings are read without a credentials directory.
CREDENTIALS_PLACEHOLDER = "$" + CREDENTIALS_ENV
_VALUE = re.compile(r"@([a-z_]+)@")
_BLOCK = re.compile(r"^#\{ (not )?([a-z_]+)$")


@dataclass(frozen=True)
class Options:
    """What ``helpline deploy`` takes besides the instance's settings."""

    config_file: Path
    executable: Path
    upstreams: tuple[str, ...] = ()
    tls_cert: Path | None = None
    tls_key: Path | None = None
    log_dir: Path = Path("/var/log/nginx")
    user: str = "helpline"
    credentials_dir: Path = Path("/etc/helpline/credentials")
    unit_name: str = "helpline.service"


def render(kind: str, settings: Settings, options: Options) -> str:
    """The template ``kind`` (nginx, caddy or systemd) filled in for this instance."""
    template = resources.files("helpline.deploy").joinpath("templates", TEMPLATES[kind]).read_text(encoding="utf-8")
    values, conditions = _values(settings, options)
    return fill(template, values, conditions)


def fill(template: str, values: dict[str, str], conditions: dict[str, bool]) -> str:
    """Keep the blocks whose condition holds, then put each value in place of its ``@name@``."""
    kept: list[str] = []
    keep: bool | None = None
    for line in template.splitlines():
        block = _BLOCK.match(line)
        if block:
            keep = conditions[block.group(2)] != bool(block.group(1))
        elif line == "#}":
            keep = None
        elif keep is not False:
            kept.append(line)

    def value(match: re.Match[str]) -> str:
        try:
            return values[match.group(1)]
        except KeyError:
            raise ConfigError(f"the deployment template names an unknown value @{match.group(1)}@") from None

    filled = _VALUE.sub(value, "\n".join(kept) + "\n")
    return re.sub(r"\n{3,}", "\n\n", filled)  # one blank line where a block was left out


def _values(settings: Settings, options: Options) -> tuple[dict[str, str], dict[str, bool]]:
    public = urlsplit(settings.server.public_url)
    if public.scheme not in ("http", "https") or not public.hostname:
        raise ConfigError("server.public_url: must be an http(s) URL such as https://helpline.example.org")
    tls = public.scheme == "https"
    port = public.port or (443 if tls else 80)
    upstreams = options.upstreams or (_local_upstream(settings.server.host, settings.server.port),)
    for upstream in upstreams:
        if not re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}", upstream):
            raise ConfigError(f"--upstream {upstream}: must be HOST:PORT, e.g. 10.0.0.2:8080")
    name = public.hostname
    cert = options.tls_cert or Path(f"/etc/letsencrypt/live/{name}/fullchain.pem")
    key = options.tls_key or Path(f"/etc/letsencrypt/live/{name}/privkey.pem")
    values = {
        "public_url": settings.server.public_url.rstrip("/"),
        "config_file": str(options.config_file),
        "server_name": name,
        "public_port": str(port),
        "scheme": public.scheme,
        "upstream_list": " ".join(upstreams),
        "upstream_servers": "\n".join(f"    server {upstream};" for upstream in upstreams),
        "cert_file": str(cert),
        "key_file": str(key),
        "log_dir": str(options.log_dir),
        "max_body": f"{MAX_BODY_BYTES // 1024}k",
        "max_body_caddy": f"{MAX_BODY_BYTES // 1024}KiB",
        "max_body_bytes": str(MAX_BODY_BYTES),
        **_caddy_values(public.scheme, name, port, options),
        **_systemd_values(settings, options),
    }
    return values, {"tls": tls, "redirect": tls and port == 443}


def _local_upstream(host: str, port: int) -> str:
    """Where the proxy reaches an instance listening on ``host``: its loopback for the any-address."""
    if host in ("", "0.0.0.0"):  # noqa: S104 - names the any-address, binds nothing
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _caddy_values(scheme: str, name: str, port: int, options: Options) -> dict[str, str]:
    default_port = 443 if scheme == "https" else 80
    address = f"{scheme}://{name}" + ("" if port == default_port else f":{port}")
    if options.tls_cert and options.tls_key:
        tls, note = f"\ttls {options.tls_cert} {options.tls_key}", f"{options.tls_cert} (--tls-cert, --tls-key)"
    elif scheme == "https":
        tls, note = (
            "\t# TLS: Caddy obtains and renews the certificate itself (ports 80 and 443 reachable).",
            "automatic",
        )
    else:
        tls, note = "\t# Plain HTTP: put TLS in front of this, or give the site an https:// address.", "none"
    return {"site_address": address, "caddy_tls": tls, "caddy_tls_note": note}


def _systemd_values(settings: Settings, options: Options) -> dict[str, str]:
    storage = settings.storage
    writable = sorted({str(storage.data_dir.resolve()), str(storage.database.resolve().parent)})
    sources = [(name, options.credentials_dir / name) for name in settings.credentials]
    loads = [f"LoadCredential={name}:{_unit_path(source)}" for name, source in sources]
    if sources and not str(storage.key_file).startswith(CREDENTIALS_PLACEHOLDER):
        loads.append(f"# The master key is not a credential: {storage.key_file} stays readable by the service's user.")
    if not sources:
        loads = [
            "# The settings name no credential: the master key and secrets are read from files the service's user",
            '# can read. Name them "credential:NAME" (e.g. key_file = "credential:master.key") to pass them here.',
        ]
    run = [
        "systemd-run --pty --wait --collect --quiet",
        f"--uid={options.user} --gid={options.user}",
        *(f"-p LoadCredential={name}:{_unit_path(source)}" for name, source in sources),
        _unit_path(options.executable),
    ]
    low_ports = [settings.server.port] + ([settings.email.smtp_port] if settings.email.enabled else [])
    if any(0 < port < 1024 for port in low_ports):
        capabilities = "CapabilityBoundingSet=CAP_NET_BIND_SERVICE\nAmbientCapabilities=CAP_NET_BIND_SERVICE"
    else:
        capabilities = "CapabilityBoundingSet=\nAmbientCapabilities=\nPrivateUsers=yes"
    return {
        "executable": _unit_path(options.executable),
        "user": options.user,
        "unit_name": options.unit_name,
        "writable_paths": " ".join(_unit_path(Path(path)) for path in writable),
        "writable_list": ", ".join(writable),
        "credential_list": ", ".join(settings.credentials) or "none",
        "credentials_dir": str(options.credentials_dir),
        "load_credentials": "\n".join(loads),
        "run_command": " ".join(run),
        "capabilities": capabilities,
    }


def _unit_path(path: Path) -> str:
    """A path as a unit file writes it: '%' starts a specifier there, so it is doubled."""
    return str(path).replace("%", "%%")
