"""Screenshots of the console for the docs: a real server on 127.0.0.1 over made-up data, in Debian's Chromium.

``scripts/screenshots`` takes every shot; ``scripts/screenshots reports`` takes one. A shot names the demo data it
needs, who signs in and the page; it is written to ``docs/screenshots/NAME.png``. The server runs in this process
on a fresh data directory in a temporary directory, with a clock that moves only as the demo data is made, so the
same shot comes out the same each time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import socket
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from playwright.async_api import Page, async_playwright, expect

from helpline import cli, log
from helpline.app import Helpline, build, build_app
from helpline.settings import Settings, load
from tests import report_demo, shift_demo
from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import PASSWORD, FakeClock

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
# A demo makes the data; it may return ids that the shot's path names ("/console/conversations/{held}").
Demo = Callable[[Helpline, Any, str], Awaitable[dict[str, str] | None]]
Act = Callable[[Page], Awaitable[None]]


@dataclass(frozen=True)
class Shot:
    """One screenshot: the demo data, who signs in, the page, and how much of it to show."""

    demo: Demo
    start: Any
    username: str | None  # None: nobody signs in (the contact's chat page)
    path: str
    wait_for: str
    width: int = 1280
    height: int = 1800
    full_page: bool = False
    act: Act | None = None  # what to do on the page before the shot


async def _chat(page: Page) -> None:
    """A contact writes on the chat page, as on a phone."""
    await page.get_by_label("Your message").fill("hi, i dont know who else to talk to")
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator("#messages li").first).to_contain_text("who else to talk to")
    await expect(page.locator("#messages li")).to_have_count(2)  # and the helpline's automatic greeting


async def _mine(page: Page) -> None:
    await expect(page.locator("#mine-list li").first).to_contain_text("new messages")


async def _conversation(page: Page) -> None:
    await expect(page.locator("#unread-mark")).to_be_visible()
    await page.locator("#reply-body").focus()


async def _floor(page: Page) -> None:
    await expect(page.locator("#staff-rows tr").first).to_be_visible()


WIDTH, HEIGHT = 1366, 800  # a common laptop screen


SHOTS = {
    "reports": Shot(
        demo=report_demo.play,
        start=report_demo.START,
        username="sam",
        path=f"/console/reports?from={report_demo.FIRST_DAY}&to={report_demo.LAST_DAY}",
        wait_for="#user-name:not(:empty)",
    ),
    "queue": Shot(
        shift_demo.play,
        shift_demo.START,
        "amira",
        "/console",
        "#waiting-rows tr",
        width=WIDTH,
        height=HEIGHT,
        act=_mine,
    ),
    "conversation": Shot(
        shift_demo.play,
        shift_demo.START,
        "amira",
        "/console/conversations/{held}",
        "#transcript-list li",
        width=WIDTH,
        height=HEIGHT,
        act=_conversation,
    ),
    "floor": Shot(
        shift_demo.play,
        shift_demo.START,
        "sam",
        "/console/floor",
        "#user-name:not(:empty)",
        width=WIDTH,
        height=HEIGHT,
        act=_floor,
    ),
    "chat": Shot(shift_demo.play, shift_demo.START, None, "/chat", "#message", width=375, height=740, act=_chat),
}


def _settings(data_dir: Path, port: int) -> Settings:
    settings = load(data_dir / "helpline.toml", environ={})
    days = ("09:00-21:00",)
    settings = settings.replace("hours", mon=days, tue=days, wed=days, thu=days, fri=days, sat=days, sun=days)
    settings = settings.replace("server", port=port, public_url=f"http://127.0.0.1:{port}")
    # Cheap password hashing and no two-factor sign-in: the accounts exist only for the shot.
    return settings.replace("auth", password_time_cost=1, password_memory_kib=1024, require_totp_for=())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def take(name: str, shot: Shot, out_dir: Path) -> Path:
    """Start a server on a fresh data directory, make the demo data, sign in and take the shot."""
    with tempfile.TemporaryDirectory(prefix="helpline-shot-") as temp:
        data_dir = Path(temp) / "var"
        with contextlib.redirect_stdout(io.StringIO()):  # init prints where it put things
            if cli.main(["init", "--data-dir", str(data_dir)]) != 0:
                raise SystemExit("helpline init failed")
        return asyncio.run(_serve_and_shoot(data_dir, shot, out_dir / f"{name}.png"))


async def _serve_and_shoot(data_dir: Path, shot: Shot, target: Path) -> Path:
    port = _free_port()
    clock = FakeClock(shot.start)
    helpline = build(_settings(data_dir, port), clock)
    runner = web.AppRunner(build_app(helpline, run_workers=False))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        ids = await shot.demo(helpline, clock, PASSWORD) or {}
        base, path = f"http://127.0.0.1:{port}", shot.path.format(**ids)
        return await _photograph(base, shot, path, target, clock.now())
    finally:
        await runner.cleanup()


async def _photograph(base: str, shot: Shot, path: str, target: Path, now: Any) -> Path:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": shot.width, "height": shot.height})
            # The page's clock reads the server's made-up time, so that waits read "9 min", not months.
            await page.clock.set_fixed_time(now)
            if shot.username is not None:
                await page.goto(base + "/login")
                await page.get_by_label("Username").fill(shot.username)
                await page.get_by_label("Password").fill(PASSWORD)
                await page.get_by_role("button", name="Sign in").click()
                await page.wait_for_url(base + "/console")
            await page.goto(base + path)
            await page.wait_for_selector(shot.wait_for)
            if shot.act is not None:
                await shot.act(page)
            target.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(target), full_page=shot.full_page)
        finally:
            await browser.close()
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/screenshots", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("names", nargs="*", help=f"shots to take: {', '.join(SHOTS)} (default: all)")
    parser.add_argument("--out", type=Path, default=OUT, help="directory to write NAME.png in")
    args = parser.parse_args(argv)
    log.configure("warning")  # the server's request lines would drown what the script says
    unknown = [name for name in args.names if name not in SHOTS]
    if unknown:
        parser.error(f"no shot named {unknown[0]}; the shots are {', '.join(SHOTS)}")
    for name in args.names or list(SHOTS):
        written = take(name, SHOTS[name], args.out)
        print(f"wrote {written}")  # noqa: T201 - the script says what it made
    return 0


if __name__ == "__main__":
    sys.exit(main())
