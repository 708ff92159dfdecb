"""Hostile message text shown in the console stays inert text: no markup, no script, no CSP violation."""

from __future__ import annotations

import re
from pathlib import Path
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
        ".filter(name => !['ol', 'li', 'p', 'bdi', 'time', 'mark', 'ul', 'q'].includes(name))"
    )
    assert made == []
    assert await page.evaluate("document.querySelectorAll('script:not([src]), iframe, svg, img, style').length") == 0
    assert await page.evaluate("typeof window.__pwned") == "undefined"
    # The page is still the console: the injected style did not hide it.
    await expect(page.get_by_role("heading", name="Messages")).to_be_visible()
    # ui's teardown asserts that no dialog opened, no script error occurred and no CSP violation was reported.


def utf16_slice(text: str, start: int, end: int) -> str:
    """``text[start:end]`` counted in UTF-16 code units, as the API's risk ranges are."""
    return text.encode("utf-16-le")[2 * start : 2 * end].decode("utf-16-le")


async def test_risk_ranges_are_marked_with_their_reasons(harness: Harness, ui: ConsoleUI) -> None:
    """Risk words, even after an emoji, are wrapped in marks whose tooltip and listed reason explain them."""
    volunteer = await harness.console("amira")
    body = "😢😢 <b>I took all my pills</b> and I want to kill myself tonight"
    await harness.text(TEXTER, body)
    [waiting] = await volunteer.queue()
    [message] = [m for m in (await volunteer.conversation(waiting["id"]))["messages"] if m["direction"] == "in"]
    flagged = [utf16_slice(body, r["start"], r["end"]) for r in message["risk"]]
    assert flagged, "the lexicon flags nothing in the sample message"

    page = await ui.sign_in("amira")
    await page.get_by_role("button", name=re.compile(r"^Claim")).click()
    shown = page.get_by_role("log").locator(".msg-in .msg-body")
    await expect(shown).to_have_text(body)
    marks = shown.locator("mark")
    marked = await marks.all_text_contents()
    assert all(any(text in mark for mark in marked) for text in flagged)
    assert all(mark in body for mark in marked)
    for risk, text in zip(message["risk"], flagged, strict=True):
        mark = marks.filter(has_text=text).first
        assert risk["reason"] in (await mark.get_attribute("title") or "")
        await expect(page.get_by_role("list", name="Risk words in this message")).to_contain_text(risk["reason"])


def test_static_files_build_no_markup_from_strings() -> None:
    """The console's scripts never parse strings as HTML and its pages carry no inline script or style."""
    static = Path(__file__).parent.parent / "helpline" / "web" / "static"
    scripts = "\n".join(p.read_text() for p in sorted(static.glob("*.js")))
    for risky in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert risky not in scripts
    for storage in ("localStorage", "sessionStorage", "document.cookie", "indexedDB"):
        assert storage not in scripts
    for page in [*sorted(static.glob("*.html")), *sorted((static.parent / "partials").glob("*.html"))]:
        html = page.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), page.name
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=", html, re.IGNORECASE), page.name
