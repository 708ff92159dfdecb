"""`helpline deploy`: the files it prints, the examples in deploy/, and the systemd unit checked by systemd-analyze.

Run this module as a script (``python -m tests.test_deploy_files``) to write the examples in deploy/ again
after changing a template.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpline import cli
from helpline.deploy.render import MAX_BODY_BYTES, Options, render
from helpline.settings import load
from tests.conftest import Harness
from tests.reverse_proxy import self_signed

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
EXAMPLE = DEPLOY / "helpline.toml"
EXAMPLE_OPTIONS = Options(
    config_file=Path("/etc/helpline/helpline.toml"), executable=Path("/opt/helpline/.venv/bin/helpline")
)
EXAMPLES = {"nginx": "nginx.conf", "caddy": "Caddyfile", "systemd": "helpline.service"}


def example(kind: str) -> str:
    return render(kind, load(EXAMPLE, {}, read_secrets=False), EXAMPLE_OPTIONS)


def printed(*argv: str) -> tuple[str, str]:
    """What `helpline deploy …` printed on stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert cli.main(["deploy", *argv]) == 0
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_examples_in_deploy_are_what_the_command_prints(kind: str) -> None:
    """deploy/nginx.conf, Caddyfile and helpline.service are the templates filled in for deploy/helpline.toml."""
    assert (DEPLOY / EXAMPLES[kind]).read_text() == example(kind), "run: python -m tests.test_deploy_files"


def test_values_an_operator_changes_are_named_at_the_top() -> None:
    """Each printed file starts with the instance's values: public URL, instances, certificate, settings file."""
    for kind in EXAMPLES:
        head = example(kind).split("\n\n", 1)[0]
        assert "https://helpline.example.org" in head and "/etc/helpline/helpline.toml" in head
    assert "127.0.0.1:8080" in example("nginx").split("\n\n", 1)[0]
    assert "/etc/letsencrypt/live/helpline.example.org/fullchain.pem" in example("nginx").split("\n\n", 1)[0]


def test_unit_loads_each_credential_the_settings_name() -> None:
    """The unit passes master.key and the Twilio token as credentials, and its systemd-run line does too."""
    unit = example("systemd")
    assert "LoadCredential=master.key:/etc/helpline/credentials/master.key\n" in unit
    assert "LoadCredential=twilio-auth-token:/etc/helpline/credentials/twilio-auth-token\n" in unit
    assert "-p LoadCredential=master.key:/etc/helpline/credentials/master.key" in unit
    assert "ReadWritePaths=/var/lib/helpline\n" in unit and "ProtectSystem=strict\n" in unit
    assert "User=helpline\n" in unit and "Restart=on-failure\n" in unit


def test_unit_may_bind_port_25_only_when_email_listens_there(tmp_path: Path) -> None:
    """Only an instance whose SMTP server listens on a port below 1024 gets CAP_NET_BIND_SERVICE."""
    assert "CapabilityBoundingSet=\n" in example("systemd") and "PrivateUsers=yes" in example("systemd")
    instance = tmp_path / "helpline.toml"
    email = '[email]\nenabled = true\nsmtp_host = "0.0.0.0"\nsmtp_port = 25\naddresses = ["help@example.org"]\n'
    instance.write_text(EXAMPLE.read_text() + email)
    unit, _ = printed("systemd", "--config", str(instance))
    assert "AmbientCapabilities=CAP_NET_BIND_SERVICE\n" in unit and "PrivateUsers" not in unit


def test_several_instances_behind_one_proxy() -> None:
    """--upstream, repeated, lists every instance in nginx's upstream block and Caddy's reverse_proxy."""
    argv = ("--config", str(EXAMPLE), "--upstream", "10.0.0.2:8080", "--upstream", "10.0.0.3:8080")
    nginx, _ = printed("nginx", *argv)
    caddy, _ = printed("caddy", *argv)
    assert "    server 10.0.0.2:8080;\n    server 10.0.0.3:8080;\n" in nginx
    assert "reverse_proxy 10.0.0.2:8080 10.0.0.3:8080 {" in caddy


def test_a_bad_upstream_is_refused() -> None:
    """An --upstream that is not HOST:PORT stops the command with a message naming it."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert cli.main(["deploy", "nginx", "--config", str(EXAMPLE), "--upstream", "10.0.0.2;evil"]) == 2
    assert "--upstream 10.0.0.2;evil" in err.getvalue()


def test_settings_that_do_not_fit_the_proxy_are_pointed_out(tmp_path: Path) -> None:
    """Without trusted_proxy_hops = 1, tls = true, a private host and the public webhook URL, it says what to set."""
    instance = tmp_path / "helpline.toml"
    instance.write_text('[server]\nhost = "0.0.0.0"\npublic_url = "https://helpline.example.org"\n')
    _, notes = printed("nginx", "--config", str(instance))
    assert "webchat.trusted_proxy_hops = 1" in notes and "server.tls = true" in notes
    assert "auth.trusted_proxy_hops = 1" in notes
    assert "server.host is 0.0.0.0: only the proxy may reach the server" in notes
    assert "sms.public_base_url" in notes
    assert printed("nginx", "--config", str(EXAMPLE))[1] == ""


def test_printing_reads_no_secret(tmp_path: Path) -> None:
    """The files are printed without the credentials directory or any secret file existing."""
    instance = tmp_path / "helpline.toml"
    instance.write_text(EXAMPLE.read_text().replace("credential:twilio-auth-token", str(tmp_path / "missing")))
    unit, _ = printed("systemd", "--config", str(instance))
    assert "LoadCredential=master.key:" in unit


async def test_proxies_limit_bodies_as_the_server_does(harness: Harness) -> None:
    """The proxies' body limit is the server's own (aiohttp's client_max_size)."""
    assert harness.server.app._client_max_size == MAX_BODY_BYTES
    assert "client_max_body_size 1024k;" in example("nginx") and "max_size 1024KiB" in example("caddy")


def systemd_analyze(*argv: str) -> subprocess.CompletedProcess[str]:
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None, "systemd-analyze is installed by scripts/bootstrap --test"
    return subprocess.run([analyze, *argv], capture_output=True, text=True, timeout=60, check=False)  # noqa: S603 - fixed program


def unit_for_this_machine(tmp_path: Path) -> Path:
    """The example's unit, printed with this checkout's `helpline` (systemd-analyze checks that it exists)."""
    unit, _ = printed("systemd", "--config", str(EXAMPLE))
    path = tmp_path / "helpline.service"
    path.write_text(unit)
    return path


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    """`systemd-analyze verify` finds nothing to say about the printed unit."""
    checked = systemd_analyze("verify", str(unit_for_this_machine(tmp_path)))
    assert checked.returncode == 0 and checked.stdout == "", checked.stdout + checked.stderr
    assert checked.stderr == "", checked.stderr


def test_systemd_analyze_security_rates_the_sandbox_ok(tmp_path: Path) -> None:
    """`systemd-analyze security` rates the unit's exposure 1.5 or lower (OK) on its 0-10 scale."""
    rated = systemd_analyze("security", "--offline=true", str(unit_for_this_machine(tmp_path)))
    assert rated.returncode == 0, rated.stderr
    score = re.search(r"Overall exposure level for helpline\.service: (\d+\.\d)", rated.stdout)
    assert score, rated.stdout
    assert float(score.group(1)) <= 1.5, rated.stdout


def test_nginx_accepts_the_site_with_its_redirect_to_https(tmp_path: Path) -> None:
    """`nginx -t` accepts the printed site for a public URL on port 443 (TLS, and the port-80 redirect)."""
    cert, key = self_signed(tmp_path)
    site, _ = printed("nginx", "--config", str(EXAMPLE), "--tls-cert", str(cert), "--tls-key", str(key))
    assert "listen 80;" in site and "return 301 https://helpline.example.org$request_uri;" in site
    (tmp_path / "helpline.conf").write_text(site)
    temp = " ".join(
        f"{kind}_temp_path {tmp_path}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = f"pid {tmp_path}/nginx.pid;\nevents {{}}\nhttp {{ {temp} include {tmp_path}/helpline.conf; }}\n"
    (tmp_path / "nginx.conf").write_text(main)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    checked = subprocess.run(  # noqa: S603 - fixed program
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0 and "test is successful" in checked.stderr, checked.stderr


def test_caddy_reads_the_example_caddyfile(tmp_path: Path) -> None:
    """Caddy adapts deploy/Caddyfile to its JSON without an error or a warning."""
    caddy = shutil.which("caddy")
    assert caddy is not None, "caddy is installed by scripts/bootstrap --test"
    home = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    adapted = subprocess.run(  # noqa: S603 - fixed program
        [caddy, "adapt", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        timeout=60,
        env=home,
        check=False,
    )
    assert adapted.returncode == 0, adapted.stderr
    assert '"level":"warn"' not in adapted.stderr, adapted.stderr


if __name__ == "__main__":
    for kind, name in EXAMPLES.items():
        (DEPLOY / name).write_text(example(kind))
    sys.stdout.write(f"wrote {', '.join(EXAMPLES.values())} in {DEPLOY}\n")
