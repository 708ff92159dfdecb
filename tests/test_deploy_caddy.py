"""The Caddyfile `helpline deploy caddy` prints, run by real Caddy (Debian's) in front of a real `helpline serve`.

As with nginx: the canaries go through on every road in and must not be written by Caddy or the server, and
slow or oversized requests end at the proxy. Caddy's own log describes a request whose proxying failed; its
filter must leave the client out of that too. What holds behind either proxy is in test_deploy_proxies.py.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from helpline.deploy.render import MAX_BODY_BYTES
from tests.proxy_traffic import (
    CANARY_QUERY,
    HALF_BODY,
    HALF_HEADERS,
    Browser,
    canaries,
    client_ports,
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


def written_by_both(deployment: Deployment) -> dict[str, bytes]:
    """What Caddy and the server wrote: Caddy's log and state, the server's log and data directory."""
    caddy = {f"caddy/{name}": data for name, data in written_by(deployment.proxy.root).items() if name != "Caddyfile"}
    return {**caddy, **written_by(deployment.server.data_dir), "server.log": deployment.server.log.read_bytes()}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Server:
    return prepared_server(tmp_path_factory.mktemp("prepared"))


@pytest.fixture
async def deployment(prepared: Server, tmp_path: Path) -> AsyncIterator[Deployment]:
    async with deployed("caddy", prepared, tmp_path) as running_deployment:
        yield running_deployment


async def test_nothing_of_the_contact_is_written_by_caddy_or_the_server(deployment: Deployment) -> None:
    """After the whole path through Caddy, rude clients and a failed proxying, no canary or client port is written."""
    await whole_path(deployment.public_url, deployment.tls, deployment.twilio)
    await rude_clients(deployment.proxy.port, deployment.tls)
    deployment.server.stop()
    browser = Browser(deployment.public_url, deployment.tls)
    try:  # with the server gone, Caddy logs the failed request
        async with browser.session.get(f"{deployment.public_url}/chat?{CANARY_QUERY}=1") as response:
            assert response.status == 502
    finally:
        await browser.close()
    deployment.proxy.stop()
    written = written_by_both(deployment)
    caddy_log = written["caddy/proxy.log"].decode()
    assert "http.log.error" in caddy_log and '"uri":"/chat"' in caddy_log  # it logged the failure, without who
    assert "helpline.db" in written
    assert hits(written, canaries()) == []
    assert hits({"log": written["caddy/proxy.log"]}, ["remote_ip", "client_ip", "remote_port", "User-Agent"]) == []
    assert client_ports(caddy_log, deployment.proxy.port, deployment.server.port) == set()


async def test_oversized_body_is_refused_by_caddy(deployment: Deployment) -> None:
    """A body over the server's limit gets 413 from Caddy, and the server never sees the request."""
    browser = Browser(deployment.public_url, deployment.tls)
    try:
        body = io.BytesIO(b"Body=" + b"x" * (MAX_BODY_BYTES + 1))
        async with browser.session.post(f"{deployment.public_url}/webhooks/twilio/sms", data=body) as response:
            assert response.status == 413 and response.headers["Server"] == "Caddy"
        body = io.BytesIO(b"x" * 1000)
        async with browser.session.post(f"{deployment.public_url}/chat/send", data=body) as response:
            assert response.status != 413  # a small body passes on to the server
    finally:
        await browser.close()
    assert not deployment.server_saw("/webhooks/twilio/sms")
    assert deployment.server_saw("/chat/send")


async def test_slow_headers_are_cut_off_by_caddy(deployment: Deployment) -> None:
    """A client that sends half its headers and stops is disconnected by Caddy after read_header."""
    received, seconds = await stalled(deployment.proxy.port, deployment.tls, HALF_HEADERS)
    assert not received.startswith(b"HTTP/1.1 200") and 1.5 < seconds < 8.0
    assert not deployment.server_saw("/chat")


async def test_slow_body_is_cut_off_by_caddy(deployment: Deployment) -> None:
    """A body that stops arriving is dropped by Caddy after read_body; the server never sees it."""
    received, seconds = await stalled(deployment.proxy.port, deployment.tls, HALF_BODY)
    # Caddy 2.6 then answers an empty 200 of its own (not 408) and closes: the request went no further.
    assert b"Server: Caddy" in received and received.endswith(b"Content-Length: 0\r\nConnection: close\r\n\r\n")
    assert 1.5 < seconds < 8.0
    assert not deployment.server_saw("/webhooks/twilio/sms")
