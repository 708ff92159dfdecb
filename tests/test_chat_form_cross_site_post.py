"""Cross-site posts to the chat's forms from browsers that send no ``Sec-Fetch-Site``.

Another site's page could otherwise start or drive a chat through a visitor's browser (an older browser
sends no fetch metadata). Without ``Sec-Fetch-Site`` the ``Origin`` — or, with no usable ``Origin``, the
``Referer`` — must be the helpline's own.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import Harness

EVIL = "https://evil.example"
FORM = {"body": "spam from elsewhere", "message_id": "abcdefgh12345678"}


def chats(harness: Harness) -> int:
    return int(harness.rows("SELECT COUNT(*) FROM conversations")[0][0])


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Origin": "null"},
        {"Origin": "null", "Referer": f"{EVIL}/page"},
        {"Referer": f"{EVIL}/page"},
        {"Origin": EVIL, "Referer": "OURS/chat"},
        {},
    ],
    ids=["evil-origin", "null-origin", "null-origin-evil-referer", "evil-referer", "evil-origin-our-referer", "none"],
)
async def test_cross_site_post_without_fetch_metadata_starts_no_chat(harness: Harness, headers: dict[str, str]) -> None:
    """With no Sec-Fetch-Site, a post that does not name our origin is refused (403) and nothing is stored."""
    ours = harness.settings.server.public_url
    sent = {name: value.replace("OURS", ours) for name, value in headers.items()}
    client = await harness.console()
    response = await client.client.post("/chat/send", data=FORM, headers=sent)
    assert response.status == 403
    assert "chat page itself" in await response.text()
    assert chats(harness) == 0


@pytest.mark.parametrize("header", ["Origin", "Referer"])
async def test_our_own_page_in_an_older_browser_still_posts(harness: Harness, header: str) -> None:
    """A post naming our origin (Origin, or Referer with no Origin) starts the chat as before."""
    ours = harness.settings.server.public_url
    value = ours if header == "Origin" else f"{ours}/chat"
    client = await harness.console()
    response = await client.client.post("/chat/send", data=FORM, headers={header: value})
    assert response.status == 200
    assert chats(harness) == 1


async def test_another_site_cannot_end_a_chat_it_learnt_the_token_of(harness: Harness) -> None:
    """Even holding a chat's token, a cross-site post to /chat/end without fetch metadata ends nothing."""
    ours = harness.settings.server.public_url
    client = await harness.console()
    started = await client.client.post("/chat/send", data=FORM, headers={"Origin": ours})
    match = re.search(r'name="token" value="([^"]+)"', await started.text())
    assert match
    response = await client.client.post("/chat/end", data={"token": match.group(1)}, headers={"Origin": EVIL})
    assert response.status == 403
    assert harness.rows("SELECT contact_left_at FROM conversations") == [(None,)]
