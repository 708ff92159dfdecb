"""``helpline deploy nginx|caddy|systemd``: print a deployment file filled in for one instance.

The instance's settings are read without its secrets (no key file, credential or secret file is opened), so
the files can be printed on any machine that has its settings. What does not match the deployment (the
proxy hops the server counts, the URL Twilio's signatures are checked against) is said on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from helpline import settings as settings_module
from helpline.deploy.render import TEMPLATES, Options, render
from helpline.settings import CREDENTIALS_ENV, Settings

ConfigOption = Callable[[argparse.ArgumentParser], None]


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser], config_option: ConfigOption) -> None:
    """Register ``deploy`` on the ``helpline`` command."""
    deploy = commands.add_parser(
        "deploy", help="print the nginx site, Caddyfile or systemd unit for an instance (see deploy/README.md)"
    )
    deploy.add_argument("kind", choices=sorted(TEMPLATES), help="which file to print")
    deploy.add_argument(
        "--upstream",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="an instance the proxy passes requests to; repeat for several (default: this instance's host and port)",
    )
    deploy.add_argument(
        "--tls-cert", type=Path, help="certificate chain (default: Let's Encrypt's path; Caddy: automatic)"
    )
    deploy.add_argument("--tls-key", type=Path, help="its private key")
    deploy.add_argument("--log-dir", type=Path, default=Path("/var/log/nginx"), help="nginx's access log directory")
    deploy.add_argument("--user", default="helpline", help="the system user the server runs as (default: helpline)")
    deploy.add_argument(
        "--credentials-dir",
        type=Path,
        default=Path("/etc/helpline/credentials"),
        help="where the unit loads credentials from (default: %(default)s)",
    )
    config_option(deploy)
    deploy.set_defaults(run=_deploy)


def _deploy(args: argparse.Namespace) -> int:
    config = args.config.resolve()
    environ = {k: v for k, v in os.environ.items() if k != CREDENTIALS_ENV}
    settings = settings_module.load(config, environ, read_secrets=False)
    options = Options(
        config_file=config,
        executable=Path(sys.executable).with_name("helpline"),
        upstreams=tuple(args.upstream),
        tls_cert=args.tls_cert.resolve() if args.tls_cert else None,
        tls_key=args.tls_key.resolve() if args.tls_key else None,
        log_dir=args.log_dir.resolve(),
        user=args.user,
        credentials_dir=args.credentials_dir.resolve(),
    )
    sys.stdout.write(render(args.kind, settings, options))
    for warning in mismatches(args.kind, settings):
        sys.stderr.write(f"note: {warning}\n")
    return 0


def mismatches(kind: str, settings: Settings) -> list[str]:
    """What in the instance's settings does not fit the printed file."""
    found = []
    public = settings.server.public_url.rstrip("/")
    if kind in ("nginx", "caddy") and settings.webchat.trusted_proxy_hops != 1:
        found.append("set webchat.trusted_proxy_hops = 1: the proxy is the one hop in front of the server")
    if kind in ("nginx", "caddy") and settings.auth.trusted_proxy_hops != 1:
        found.append(
            "set auth.trusted_proxy_hops = 1: otherwise every sign-in seems to come from the proxy's network,"
            " and a few wrong guesses hold back everyone's"
        )
    if settings.server.host in ("", "0.0.0.0", "::"):  # noqa: S104 - names the any-address, binds nothing
        found.append(
            f"server.host is {settings.server.host or 'every address'}: only the proxy may reach the server (it"
            " believes X-Forwarded-For); set 127.0.0.1, or a private address behind a firewall"
        )
    if settings.sms.enabled and settings.sms.public_base_url.rstrip("/") != public:
        found.append(
            f"sms.public_base_url is not server.public_url ({public}): Twilio's signatures are checked against it"
        )
    if public.startswith("https://") and not settings.server.tls:
        found.append("set server.tls = true: TLS ends at the proxy, so cookies must be Secure")
    return found
