"""The widget on a host page whose origin may not frame the chat: a tab instead of a frame, and a logged reason."""

from __future__ import annotations

import json

import pytest

from helpline.settings import Settings
from tests.conftest import CapturedLog, Harness

SITE = "https://www.charity.example"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace("webchat", frame_ancestors=(SITE,))


def widget_config(script: str) -> dict[str, object]:
    start = script.index("var config = ") + len("var config = ")
    config: dict[str, object] = json.loads(script[start : script.index(";\n", start)])
    return config


async def test_a_host_origin_not_allowed_gets_no_frame_and_is_logged(
    harness: Harness, captured_log: CapturedLog
) -> None:
    """A page on an origin outside webchat.frame_ancestors gets allowed=false; the server logs the reason."""
    client = await harness.console()
    response = await client.client.get("/widget.js", headers={"Referer": "https://elsewhere.example/page"})
    assert response.status == 200
    assert widget_config(await response.text())["allowed"] is False
    assert "webchat.widget_not_framed" in captured_log.text
    assert "origin_not_in_frame_ancestors" in captured_log.text
    assert "elsewhere.example" not in captured_log.text


async def test_an_allowed_host_origin_gets_the_framed_chat(harness: Harness, captured_log: CapturedLog) -> None:
    """A page on an origin in webchat.frame_ancestors gets allowed=true, and nothing is logged."""
    client = await harness.console()
    response = await client.client.get("/widget.js", headers={"Referer": f"{SITE}/help"})
    assert widget_config(await response.text())["allowed"] is True
    assert "webchat.widget_not_framed" not in captured_log.text
