"""Metrics exposure: /metrics (escalations and disclosures as they happen) is not served to the public."""

from __future__ import annotations

import pytest

from helpline.settings import Settings
from tests.conftest import Harness

TOKEN = "prometheus-scrape-token-4f1c"


async def test_this_machine_reads_metrics(harness: Harness) -> None:
    """A request from loopback that came through no proxy is served the counts."""
    client = await harness.console()
    response = await client.get("/metrics")
    assert response.status == 200
    assert "helpline_waiting_conversations" in await response.text()


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-IP"])
async def test_a_request_forwarded_by_a_proxy_on_this_machine_is_refused(harness: Harness, header: str) -> None:
    """A proxy on the same machine connects from loopback, but what it forwards is not from this machine."""
    client = await harness.console()
    response = await client.client.get("/metrics", headers={header: "for=198.51.100.7"})
    assert response.status == 403
    assert "helpline_" not in await response.text()


class TestWithToken:
    """With server.metrics_token set, only its bearer reads the counts, wherever it is."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.replace("server", metrics_token=TOKEN)

    async def test_without_the_token_even_this_machine_is_refused(self, harness: Harness) -> None:
        """No token, a wrong one, or the token under another scheme: 403 with no counts."""
        client = await harness.console()
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
            response = await client.client.get("/metrics", headers=headers)
            assert response.status == 403, headers
            assert "helpline_" not in await response.text()

    async def test_the_bearer_of_the_token_is_served_through_a_proxy(self, harness: Harness) -> None:
        """The right bearer token is served the counts, forwarded by a proxy or not."""
        client = await harness.console()
        headers = {"Authorization": f"Bearer {TOKEN}", "X-Forwarded-For": "198.51.100.7"}
        response = await client.client.get("/metrics", headers=headers)
        assert response.status == 200
        assert "helpline_waiting_conversations" in await response.text()
