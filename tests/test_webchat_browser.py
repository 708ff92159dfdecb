"""Web chat in a real browser (Debian's Chromium): chatting, quick exit, a cut connection, the widget's
requests, the chat without JavaScript, accessibility, and the canary.

One browser serves the whole module; each test has its own contexts (their own storage) and its own server.
A tiny neutral site on 127.0.0.1 plays the charity's host page and the quick-exit destination.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import axe_playwright_python
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    WebSocketRoute,
    expect,
)

from helpline.app import build
from helpline.core.events import ContactLeft, ContactTyping
from helpline.settings import Settings
from helpline.testing.twilio_api import FakeTwilio
from tests.chromium import TIMEOUT_MS, chromium
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, CapturedLog, Console, FakeClock, Harness
from tests.direct_db import at_rest
from tests.test_canary import text_forms
from tests.test_webchat_socket import next_event

pytestmark = pytest.mark.asyncio(loop_scope="module")

expect.set_options(timeout=TIMEOUT_MS)
AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Runs before the page's own scripts: records every CSP violation and uncaught error the page reports.
WATCH = """
window.__problems = [];
document.addEventListener("securitypolicyviolation", e => window.__problems.push("csp " + e.violatedDirective));
window.addEventListener("error", e => window.__problems.push("error " + e.message));
"""
CANARY_AGENT = "Mozilla/5.0 (CanaryAgent-7f3c; like Gecko) CanaryBrowser/99.1"
STORED = "#messages li[data-seq]"


# ---------- fixtures: one browser for the module; the harness on the module's event loop ----------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.fixture
def site_port(unused_tcp_port_factory: Any) -> int:
    port: int = unused_tcp_port_factory()
    return port


@pytest.fixture
def settings(settings: Settings, site_port: int) -> Settings:
    site = f"http://127.0.0.1:{site_port}"
    return settings.replace("webchat", exit_url=f"{site}/", frame_ancestors=(site,))


@pytest_asyncio.fixture(loop_scope="module")
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake


@pytest_asyncio.fixture(loop_scope="module")
async def harness(
    settings: Settings, clock: FakeClock, fake_twilio: FakeTwilio, data_dir: Path, port: int
) -> AsyncIterator[Harness]:
    running = await Harness.serving(build(settings, clock), fake_twilio, clock, data_dir, port)
    yield running
    await running.close()


@pytest_asyncio.fixture(loop_scope="module")
async def exit_gate() -> asyncio.Event:
    """Open unless a test closes it: the exit site answers only while it is set."""
    gate = asyncio.Event()
    gate.set()
    return gate


@pytest_asyncio.fixture(loop_scope="module")
async def site(site_port: int, port: int, exit_gate: asyncio.Event) -> AsyncIterator[str]:
    """The neutral site: a start page, the exit destination, and a charity page that embeds the widget."""
    helpline = f"http://127.0.0.1:{port}"

    def page(title: str, body: str) -> web.Response:
        html = f'<!doctype html><html lang="en"><head><title>{title}</title></head><body>{body}</body></html>'
        return web.Response(text=html, content_type="text/html")

    async def start(request: web.Request) -> web.Response:
        return page("Recipes", "<main><h1>Recipes</h1><p>Soup of the day.</p></main>")

    async def landing(request: web.Request) -> web.Response:
        await exit_gate.wait()
        return page("Weather", "<main><h1>Weather</h1><p>Sunny spells.</p></main>")

    async def host(request: web.Request) -> web.Response:
        return page("Charity", f'<main><h1>Charity</h1></main><script src="{helpline}/widget.js" async></script>')

    app = web.Application()
    app.router.add_get("/", landing)
    app.router.add_get("/start", start)
    app.router.add_get("/host", host)
    server = TestServer(app, port=site_port)
    await server.start_server()
    yield f"http://127.0.0.1:{site_port}"
    await server.close()


# ---------- helpers ----------


def base(harness: Harness) -> str:
    return harness.settings.server.public_url


async def new_context(browser: Browser, **options: Any) -> BrowserContext:
    context = await browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    if options.get("java_script_enabled", True):
        await context.add_init_script(WATCH)
    return context


async def send(page: Page, text: str) -> None:
    """Type a message into the chat and wait until the server has stored it."""
    await page.get_by_label("Your message").fill(text)
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator(STORED).filter(has_text=text)).to_have_count(1)


async def assert_clean(page: Page) -> None:
    """No CSP violation and no uncaught script error in the page."""
    assert await page.evaluate("window.__problems") == []


async def claim_and_reply(harness: Harness, volunteer: Console, *replies: str) -> str:
    [waiting] = [c for c in await volunteer.queue() if c["channel"] == "webchat"]
    if waiting["status"] == "waiting":
        assert (await volunteer.post(f"/api/conversations/{waiting['id']}/claim")).status == 200
    for text in replies:
        assert (await volunteer.post(f"/api/conversations/{waiting['id']}/messages", {"body": text})).status == 201
    await harness.send_outbox()
    return str(waiting["id"])


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings for the page as it is now (WCAG 2.0–2.2 A and AA)."""
    await page.evaluate(AXE)
    found: list[dict[str, Any]] = await page.evaluate(
        """async tags => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}));
        }""",
        AXE_TAGS,
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


# ---------- tests ----------


async def test_contact_chats_with_a_volunteer(browser: Browser, harness: Harness) -> None:
    """A contact in the browser chats with a volunteer: queue place, joining, typing both ways, replies, ending."""
    context = await new_context(browser)
    subscription = harness.helpline.bus.subscribe()
    try:
        page = await context.new_page()
        await page.goto(base(harness) + "/chat")
        assert await page.title() == "Chat"
        await send(page, "Hello, my sister has not come home")
        await expect(page.locator("#chat-status")).to_contain_text("You are next in the queue")

        volunteer = await harness.console("amira")
        conversation_id = await claim_and_reply(harness, volunteer)
        await expect(page.locator("#chat-status")).to_have_text("A volunteer has joined the chat.")

        await page.get_by_label("Your message").press_sequentially("she is 14")
        assert await next_event(subscription, ContactTyping) == ContactTyping(conversation_id, True)
        user = await harness.helpline.store.read(lambda tx: tx.users.by_name("amira"))
        assert user is not None
        await harness.helpline.conversations.volunteer_typing(user, conversation_id, True)
        await expect(page.locator("#typing")).to_be_visible()

        await claim_and_reply(harness, volunteer, "Thank you for telling me. When did you last see her?")
        await expect(page.locator(STORED).filter(has_text="When did you last see her?")).to_have_count(1)
        await expect(page.locator("#typing")).to_be_hidden()

        await page.get_by_role("button", name="End chat").click()
        await expect(page.locator("#ended")).to_be_visible()
        assert await page.evaluate("sessionStorage.length") == 0
        assert await next_event(subscription, ContactLeft) == ContactLeft(conversation_id, "ended")
        shown = await volunteer.conversation(conversation_id)
        assert shown["messages"][-1]["body"].startswith("The contact ended the chat.")
        assert await context.cookies() == []
        await assert_clean(page)
    finally:
        subscription.close()
        await context.close()


async def test_quick_exit_blanks_clears_leaves_and_tells_the_volunteer(
    browser: Browser, harness: Harness, site: str, exit_gate: asyncio.Event
) -> None:
    """Shift three times: the page is blank at once, storage empty, the tab on the exit site, Back skips the chat."""
    context = await new_context(browser)
    subscription = harness.helpline.bus.subscribe()
    try:
        page = await context.new_page()
        await page.goto(site + "/start")
        await page.goto(base(harness) + "/chat")
        await send(page, "someone is coming, I have to go")
        assert await page.evaluate("sessionStorage.length") == 1

        # The exit site is made to wait before it answers, and the page reports what it shows the moment it
        # is emptied: that is what anyone looking at the screen sees while the exit site loads.
        exit_gate.clear()
        left_behind: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        await page.expose_function("reportLeftBehind", left_behind.put_nowait)
        await page.evaluate(
            """() => new MutationObserver(() => {
                if (document.body.childElementCount === 0) window.reportLeftBehind({
                    text: document.body.innerText.trim(), storage: sessionStorage.length, title: document.title});
            }).observe(document.body, {childList: true})"""
        )
        await page.locator("h1").click()
        for _ in range(3):
            await page.keyboard.press("Shift")
        state = await asyncio.wait_for(left_behind.get(), TIMEOUT_MS / 1000)
        assert state == {"text": "", "storage": 0, "title": ""}
        exit_gate.set()
        await page.wait_for_url(site + "/")
        assert await page.title() == "Weather"
        left = await next_event(subscription, ContactLeft)
        assert isinstance(left, ContactLeft) and left.reason == "quick_exit"
        await page.go_back()
        assert page.url == site + "/start"
        assert "/chat" not in page.url

        volunteer = await harness.console("amira")
        [waiting] = await volunteer.queue()
        shown = await volunteer.conversation(waiting["id"])
        assert shown["contact_left_detail"]["reason"] == "quick_exit"
        assert "quick exit" in shown["messages"][-1]["body"]
    finally:
        subscription.close()
        await context.close()


async def test_cut_connection_resumes_with_every_message_once(browser: Browser, harness: Harness) -> None:
    """The test cuts the socket; replies sent meanwhile and the contact's own queued message arrive once each."""
    context = await new_context(browser)
    allowed = asyncio.Event()
    allowed.set()
    open_routes: list[tuple[WebSocketRoute, WebSocketRoute]] = []

    async def proxy(route: WebSocketRoute) -> None:
        if not allowed.is_set():
            await route.close(code=1013, reason="try again later")
            return
        open_routes.append((route, route.connect_to_server()))

    try:
        page = await context.new_page()
        await page.route_web_socket(re.compile(r".*/chat/ws$"), proxy)
        await page.goto(base(harness) + "/chat")
        await send(page, "first")
        volunteer = await harness.console("amira")
        conversation_id = await claim_and_reply(harness, volunteer, "reply before the cut")
        await expect(page.locator(STORED).filter(has_text="reply before the cut")).to_have_count(1)

        allowed.clear()
        page_side, server_side = open_routes[-1]
        await server_side.close(code=1001, reason="cut")
        await page_side.close(code=4000, reason="cut by the test")
        await expect(page.get_by_text("Connection lost. Reconnecting…")).to_be_visible()
        await claim_and_reply(harness, volunteer, "while you were away 1", "while you were away 2")
        await page.get_by_label("Your message").fill("sent while cut off")
        await page.get_by_role("button", name="Send").click()

        allowed.set()
        for text in ("while you were away 1", "while you were away 2", "sent while cut off"):
            await expect(page.locator(STORED).filter(has_text=text)).to_have_count(1)
        await expect(page.locator(".message--pending")).to_have_count(0)
        shown_seqs = await page.evaluate(
            "Array.from(document.querySelectorAll('#messages li[data-seq]')).map(li => Number(li.dataset.seq))"
        )
        stored = harness.rows("SELECT seq FROM messages WHERE conversation_id = ? ORDER BY seq", (conversation_id,))
        assert shown_seqs == [seq for (seq,) in stored]
        await assert_clean(page)
    finally:
        await context.close()


async def test_widget_talks_to_no_one_but_the_helpline(browser: Browser, harness: Harness, site: str) -> None:
    """On a host page, the widget's every request goes to the helpline; its exit button leaves and ends the chat."""
    context = await new_context(browser)
    subscription = harness.helpline.bus.subscribe()
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    try:
        page = await context.new_page()
        page.on("websocket", lambda socket: requests.append(socket.url))
        await page.goto(site + "/host")
        await page.get_by_role("button", name="Chat with us").click()
        chat = page.frame_locator("iframe[title='Chat']")
        await chat.get_by_label("Your message").fill("hello from the charity's site")
        await chat.get_by_role("button", name="Send").click()
        await expect(chat.locator(STORED).filter(has_text="hello from the charity's site")).to_have_count(1)

        await page.get_by_role("button", name="Exit this page").click()
        await page.wait_for_url(site + "/")
        left = await next_event(subscription, ContactLeft)
        assert isinstance(left, ContactLeft) and left.reason == "quick_exit"

        helpline = urlsplit(base(harness)).netloc
        host = urlsplit(site).netloc
        assert requests, "no requests were recorded"
        assert {urlsplit(url).netloc for url in requests} <= {helpline, host}
        # The host site's own requests are the page, the browser's icon request and the exit destination.
        own = {urlsplit(url).path for url in requests if urlsplit(url).netloc == host}
        assert own <= {"/host", "/", "/favicon.ico"}
        assert any(url.endswith("/widget.js") for url in requests) and any("/chat/ws" in url for url in requests)
    finally:
        subscription.close()
        await context.close()


async def test_chat_works_with_javascript_disabled(browser: Browser, harness: Harness) -> None:
    """With JavaScript off the chat is plain forms: send, check for replies, end; no cookie, no token in a URL."""
    context = await new_context(browser, java_script_enabled=False)
    try:
        page = await context.new_page()
        await page.goto(base(harness) + "/chat")
        await expect(page.get_by_text("New replies do not appear by themselves")).to_be_visible()
        await page.get_by_label("Your message").fill("Hello without JavaScript")
        await page.get_by_role("button", name="Send").click()
        await expect(page.locator(STORED).filter(has_text="Hello without JavaScript")).to_have_count(1)
        assert "token" not in page.url

        volunteer = await harness.console("amira")
        conversation_id = await claim_and_reply(harness, volunteer, "I can see your message")
        await page.get_by_role("button", name="Check for replies").click()
        await expect(page.locator(STORED).filter(has_text="I can see your message")).to_have_count(1)

        await page.get_by_role("button", name="End chat").click()
        await expect(page.get_by_role("heading", name="The chat has ended")).to_be_visible()
        shown = await volunteer.conversation(conversation_id)
        assert shown["contact_left"] is True
        assert await context.cookies() == []
    finally:
        await context.close()


async def test_axe_finds_no_serious_problem_at_any_width(browser: Browser, harness: Harness) -> None:
    """axe-core reports no serious or critical violation: new, in a conversation, warned of idling, at 320 px."""
    webchat = harness.helpline.webchat
    assert webchat is not None
    context = await new_context(browser, viewport={"width": 320, "height": 640})
    try:
        page = await context.new_page()
        await page.goto(base(harness) + "/chat")
        await expect(page.locator("#chat-status")).to_contain_text("Write")
        assert await serious_violations(page) == []

        await send(page, "a message to fill the transcript")
        volunteer = await harness.console("amira")
        await claim_and_reply(harness, volunteer, "a reply " * 30)
        await expect(page.locator(STORED)).to_have_count(3)
        harness.clock.advance(seconds=harness.settings.webchat.idle_timeout_seconds - 60)
        await webchat.sweeper.run_once()
        await expect(page.get_by_role("button", name="I'm still here")).to_be_focused()
        assert await serious_violations(page) == []

        assert await page.evaluate("document.documentElement.scrollWidth") <= 320
        sizes = await page.evaluate(
            "Array.from(document.querySelectorAll('button:not([hidden]), textarea'))"
            ".filter(e => e.offsetParent).map(e => [e.getBoundingClientRect().width, e.getBoundingClientRect().height])"
        )
        assert sizes and all(width >= 24 and height >= 24 for width, height in sizes)

        await page.set_viewport_size({"width": 1280, "height": 800})
        assert await serious_violations(page) == []
        await assert_clean(page)
    finally:
        await context.close()


async def test_canary_agent_and_text_are_nowhere_at_rest_or_in_logs(
    browser: Browser, harness: Harness, captured_log: CapturedLog
) -> None:
    """After a whole chat, the user agent, the texts and the token are in no file of the data directory and no log."""
    inbound = "CANARY-WEBCHAT my friend Sam went missing after school"
    reply = "CANARY-WEBREPLY we will help you look for Sam"
    context = await new_context(browser, user_agent=CANARY_AGENT)
    try:
        page = await context.new_page()
        await page.goto(base(harness) + "/chat")
        await send(page, inbound)
        token = await page.evaluate("sessionStorage.getItem('helpline-chat')")
        assert token
        volunteer = await harness.console("amira")
        conversation_id = await claim_and_reply(harness, volunteer, reply)
        await expect(page.locator(STORED).filter(has_text=reply)).to_have_count(1)
        await page.get_by_role("button", name="End chat").click()
        await expect(page.locator("#ended")).to_be_visible()
        form = {"outcome": "support", "no_flag_reason": "Found safe by her aunt."}
        closed = await volunteer.post(f"/api/conversations/{conversation_id}/close", form)
        assert closed.status == 200
    finally:
        await context.close()

    needles = [CANARY_AGENT, "CanaryAgent-7f3c", token, *text_forms(inbound), *text_forms(reply)]
    running = at_rest(harness.data_dir, harness.db)
    await harness.close()
    stopped = at_rest(harness.data_dir, harness.db)
    for label, files in (("running", running), ("stopped", stopped)):
        for name, content in files.items():
            for needle in needles:
                assert needle.encode() not in content, f"{needle!r} found in {name} ({label})"
                assert needle.encode("utf-16-le") not in content, f"{needle!r} (UTF-16) in {name} ({label})"
    assert captured_log.lines
    for line in captured_log.lines:
        for needle in needles:
            assert needle not in line, f"{needle!r} found in a log line"


async def test_on_a_phone_the_open_chat_has_one_exit_and_no_launcher(
    browser: Browser, harness: Harness, site: str
) -> None:
    """On a phone, opening the chat hides the launcher and the page's own exit: the chat's exit is the only one."""
    context = await new_context(browser, viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    try:
        page = await context.new_page()
        await page.goto(site + "/host")
        launcher = page.get_by_role("button", name="Chat with us")
        await launcher.click()
        chat = page.frame_locator("iframe[title='Chat']")
        await expect(chat.get_by_role("button", name="Exit this page")).to_be_visible()
        await expect(launcher).to_be_hidden()
        await expect(page.locator("[data-helpline='exit']")).to_be_hidden()
        await page.get_by_role("button", name="Hide chat").click()
        await expect(launcher).to_be_visible()
        await expect(page.locator("[data-helpline='exit']")).to_be_visible()
    finally:
        await context.close()
