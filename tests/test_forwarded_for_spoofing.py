"""X-Forwarded-For spoofing: behind the printed nginx or Caddy configuration, a client cannot pick its own network.

The server counts one proxy (webchat.trusted_proxy_hops = 1) and takes the network for the chat's limits from
the last X-Forwarded-For entry. The proxy must replace whatever the client sent with the connection's own
address, or a client could start chats without end by sending a new address each time. With one new chat
per network per hour, a second chat from the same machine is refused however it names itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.proxy_traffic import hidden
from tests.reverse_proxy import Deployment, Server, deployed, prepared_server

ONE_CHAT_PER_NETWORK = "network_chats_per_hour = 1"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Server:
    return prepared_server(tmp_path_factory.mktemp("prepared"))


@pytest.fixture(params=["nginx", "caddy"])
async def deployment(request: pytest.FixtureRequest, prepared: Server, tmp_path: Path) -> AsyncIterator[Deployment]:
    async with deployed(request.param, prepared, tmp_path, webchat=ONE_CHAT_PER_NETWORK) as running_deployment:
        yield running_deployment


async def start_chat(base_url: str, forwarded_for: str, connector: aiohttp.TCPConnector) -> int:
    """Start a chat with the plain form, claiming to come from ``forwarded_for``; the answer's status."""
    headers = {"X-Forwarded-For": forwarded_for, "Sec-Fetch-Site": "same-origin", "Origin": base_url}
    async with aiohttp.ClientSession(connector=connector, connector_owner=False, headers=headers) as session:
        page = await (await session.get(f"{base_url}/chat")).text()
        form = {"token": "", "message_id": hidden(page, "message_id"), "body": "Hello"}
        async with session.post(f"{base_url}/chat/send", data=form) as response:
            return response.status


async def test_a_client_cannot_name_its_own_network_through_the_proxy(deployment: Deployment) -> None:
    """Through the proxy, a second chat is refused (429) whatever X-Forwarded-For the client sends."""
    connector = aiohttp.TCPConnector(ssl=deployment.tls)
    try:
        assert await start_chat(deployment.public_url, "198.51.100.1", connector) == 200
        assert await start_chat(deployment.public_url, "203.0.113.2", connector) == 429
    finally:
        await connector.close()


async def test_the_server_itself_believes_the_header_so_only_the_proxy_may_reach_it(deployment: Deployment) -> None:
    """Straight to the server, each claimed network gets its chat: why it listens on 127.0.0.1, behind the proxy."""
    connector = aiohttp.TCPConnector()
    inside = f"http://127.0.0.1:{deployment.server.port}"
    try:
        assert await start_chat(inside, "198.51.100.1", connector) == 200
        assert await start_chat(inside, "203.0.113.2", connector) == 200
    finally:
        await connector.close()
