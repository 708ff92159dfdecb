"""What holds behind either printed proxy configuration (nginx and Caddy), run in front of a real `helpline serve`.

Each proxy's own file checks what only it does (its logs, its answers to slow and oversized requests).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.proxy_traffic import CANARY_NUMBER, Browser, next_frame
from tests.reverse_proxy import Deployment, Server, deployed, prepared_server


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Server:
    return prepared_server(tmp_path_factory.mktemp("prepared"))


@pytest.fixture(params=["nginx", "caddy"])
async def deployment(request: pytest.FixtureRequest, prepared: Server, tmp_path: Path) -> AsyncIterator[Deployment]:
    async with deployed(request.param, prepared, tmp_path) as running_deployment:
        yield running_deployment


async def test_webhook_signature_is_checked_against_the_public_url(deployment: Deployment) -> None:
    """Behind the proxy a webhook signed for the public URL is taken; one signed for the server's own address is not."""
    twilio, browser = deployment.twilio, Browser(deployment.public_url, deployment.tls)
    try:
        assert await browser.text(twilio, CANARY_NUMBER, "Hello") == 200
        inside = f"http://127.0.0.1:{deployment.server.port}"
        assert await browser.text(twilio, CANARY_NUMBER, "Hello again", signed_for=inside) == 403
    finally:
        await browser.close()


async def test_sockets_stay_open_past_the_client_timeouts(deployment: Deployment) -> None:
    """A chat socket through the proxy still works after longer than the header and body timeouts (2 s here)."""
    browser = Browser(deployment.public_url, deployment.tls)
    try:
        chat = await browser.socket("/chat/ws")
        await chat.send_json({"type": "hello", "token": None, "after": 0})
        await asyncio.sleep(3)  # real time on purpose: the proxy's own timers
        await chat.send_json({"type": "message", "id": "late-message-1", "body": "still here"})
        answer = await next_frame(chat, lambda frame: frame["type"] in ("ack", "error"))
        assert answer["type"] == "ack", answer
        await chat.close()
    finally:
        await browser.close()
