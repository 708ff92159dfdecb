"""The nginx site `helpline deploy nginx` prints, run by real nginx in front of a real `helpline serve`.

A contact's canary address (in X-Forwarded-For), user agent and query string, a phone number and message
texts go through the proxy on every road in (SMS webhooks, console, the chat's socket and its plain form);
nothing of them may be written by nginx or the server. Slow and oversized requests end at the proxy. What
holds behind either proxy is in test_deploy_proxies.py.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from helpline.deploy.render import MAX_BODY_BYTES
from tests.proxy_traffic import (
    HALF_BODY,
    HALF_HEADERS,
    Browser,
    canaries,
    hits,
    rude_clients,
    stalled,
    whole_path,
    written_by,
)
from tests.reverse_proxy import (
    Deployment,
    Server,
    deployed,
    prepared_server,
)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Server:
    return prepared_server(tmp_path_factory.mktemp("prepared"))


@pytest.fixture
async def deployment(prepared: Server, tmp_path: Path) -> AsyncIterator[Deployment]:
    async with deployed("nginx", prepared, tmp_path) as running_deployment:
        yield running_deployment


async def test_nothing_of_the_contact_is_written_by_nginx_or_the_server(deployment: Deployment) -> None:
    """After webhooks, console, chat socket, form and rude clients at nginx, no canary is in any log or data file."""
    await whole_path(deployment.public_url, deployment.tls, deployment.twilio)
    await rude_clients(deployment.proxy.port, deployment.tls)
    deployment.proxy.stop()
    deployment.server.stop()
    logs = written_by(deployment.proxy.root / "logs")
    assert '"path":"/webhooks/twilio/sms"' in logs["helpline-access.log"].decode()  # it does log, without who
    assert '"path":"/chat/ws"' in logs["helpline-access.log"].decode()
    assert logs["access.log"] == b""  # Debian's combined-format log sees none of the helpline's requests
    files = {**logs, **written_by(deployment.server.data_dir), "server.log": deployment.server.log.read_bytes()}
    assert "helpline.db" in files and "server.log" in files
    assert hits(files, canaries()) == []
    assert hits(logs, ["127.0.0.1", "client:"]) == []  # nor the connection's own address


async def test_oversized_body_is_refused_by_nginx(deployment: Deployment) -> None:
    """A body over the server's limit gets 413 from nginx, and the server never sees the request."""
    browser = Browser(deployment.public_url, deployment.tls)
    try:
        body = io.BytesIO(b"Body=" + b"x" * (MAX_BODY_BYTES + 1))
        async with browser.session.post(f"{deployment.public_url}/webhooks/twilio/sms", data=body) as response:
            assert response.status == 413
        async with browser.session.post(f"{deployment.public_url}/chat/send", data=b"x" * 1000) as response:
            assert response.status != 413  # a small body passes on to the server
    finally:
        await browser.close()
    assert not deployment.server_saw("/webhooks/twilio/sms")


async def test_slow_headers_are_cut_off_by_nginx(deployment: Deployment) -> None:
    """A client that sends half its headers and stops is disconnected by nginx after client_header_timeout."""
    received, seconds = await stalled(deployment.proxy.port, deployment.tls, HALF_HEADERS)
    assert received == b"" and 1.5 < seconds < 8.0
    assert not deployment.server_saw("/chat")


async def test_slow_body_is_cut_off_by_nginx(deployment: Deployment) -> None:
    """A body that stops arriving is dropped by nginx after client_body_timeout; the server never sees it."""
    received, seconds = await stalled(deployment.proxy.port, deployment.tls, HALF_BODY)
    assert received in (b"", b"HTTP/1.1 408") or received.startswith(b"HTTP/1.1 408 ")
    assert 1.5 < seconds < 8.0
    assert not deployment.server_saw("/webhooks/twilio/sms")


async def test_an_error_log_would_name_the_client(deployment: Deployment, tmp_path: Path) -> None:
    """Why the site discards its error log: at level error, nginx writes "client: <address>" for a refused body."""
    site = deployment.proxy.root / "helpline.conf"
    logged = tmp_path / "nginx-error.log"
    site.write_text(site.read_text().replace("error_log /dev/null;", f"error_log {logged} error;"))
    deployment.proxy.stop()
    deployment.proxy.start()
    browser = Browser(deployment.public_url, deployment.tls)
    try:
        body = io.BytesIO(b"x" * (MAX_BODY_BYTES + 1))
        async with browser.session.post(f"{deployment.public_url}/chat/send?q=1", data=body) as response:
            assert response.status == 413
    finally:
        await browser.close()
    deployment.proxy.stop()
    written = logged.read_text()
    assert "client: 127.0.0.1" in written and "/chat/send?q=1" in written
