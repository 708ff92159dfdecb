"""Hostile message text shown in the console stays inert text: no markup, no script, no CSP violation."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.async_api import expect

from tests.conftest import Harness

if TYPE_CHECKING:
    from tests.browser import ConsoleUI

pytest_plugins = ("tests.browser",)

TEXTER = "+447700900666"
# Each payload tries to run script (setting window.__pwned or opening a dialog) or to change the page.
CORPUS = [
    "<script>window.__pwned = 'script'; alert('script')</script>",
    "<img src=x onerror=\"window.__pwned='img'; alert('img')\">",
    "<a href=\"javascript:window.__pwned='link'\">tap here</a> javascript:alert('bare')",
    "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"window.__pwned='svg'\"><script>alert('svg')</script></svg>",
    "</textarea><script>window.__pwned='textarea'</script><textarea>",
    "</p></li></ol><iframe srcdoc=\"<script>parent.__pwned='iframe'</script>\"></iframe>",
    "<style>body { display: none }</style><b onmouseover=alert('b')>bold</b> &lt;not&gt; &amp;",
    "\u202egnp.exe\u202c \u2067reversed\u2069 \u200fRTL override",
    "{{constructor.constructor('window.__pwned=1')()}} ${alert('template')} [link](javascript:alert(1))",
]


async def test_hostile_messages_render_as_inert_text(harness: Harness, ui: ConsoleUI) -> None:
    """Every payload of the corpus shows exactly as sent, with no element made, script run or CSP report."""
    await harness.console("amira")
    for body in CORPUS:
        assert (await harness.text(TEXTER, body)).status == 200

    page = await ui.sign_in("amira")
    await page.get_by_role("button", name=re.compile(r"^Claim")).click()
    await page.wait_for_url(re.compile(r"/console/conversations/[^/]+$"))
    transcript = page.get_by_role("log")
    await expect(transcript.locator(".msg-in")).to_have_count(len(CORPUS))

    shown = await transcript.locator(".msg-in .msg-body").evaluate_all("nodes => nodes.map(n => n.textContent)")
    assert shown == CORPUS
    made = await transcript.evaluate(
        "log => Array.from(log.querySelectorAll('*'), n => n.localName)"
        ".filter(name => !['li', 'p', 'bdi', 'time', 'mark', 'ul', 'q'].includes(name))"
    )
    assert made == []
    assert await page.evaluate("document.querySelectorAll('script:not([src]), iframe, svg, img, style').length") == 0
    assert await page.evaluate("typeof window.__pwned") == "undefined"
    # The page is still the console: the injected style did not hide it.
    await expect(page.get_by_role("heading", name="Messages")).to_be_visible()
    # ui's teardown asserts that no dialog opened, no script error occurred and no CSP violation was reported.
