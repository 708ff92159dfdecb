"""Outbound: volunteers claim waiting conversations and reply through the console API; the outbox sends the
replies to the fake Twilio API, where each is counted once it arrives."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

from helpline.bench.console import SignedIn
from helpline.testing.twilio_api import FakeTwilio

REPLY = (
    "[bench reply {index}] Thank you for telling us. You did the right thing. Can you tell me when you last saw her?"
)
REPLY_PREFIX = "[bench reply "


@dataclass(frozen=True)
class Sent:
    """Replies posted and what reached the provider."""

    posted: int
    refused: int
    delivered: int
    duplicated: int
    seconds: float


async def _claim(session: aiohttp.ClientSession, volunteer: SignedIn, ids: Sequence[str]) -> list[str]:
    headers = {"Cookie": volunteer.cookie, "X-CSRF-Token": volunteer.csrf}
    claimed = []
    for conversation_id in ids:
        async with session.post(
            f"{volunteer.base_url}/api/conversations/{conversation_id}/claim", headers=headers
        ) as answer:
            await answer.read()
            if answer.status == 200:
                claimed.append(conversation_id)
    return claimed


def _replies_at(twilio: FakeTwilio) -> Counter[str]:
    return Counter(c.get("Body", "") for c in twilio.created if c.get("Body", "").startswith(REPLY_PREFIX))


async def send_replies(
    volunteers: Sequence[SignedIn],
    twilio: FakeTwilio,
    *,
    replies: int,
    per_volunteer: int,
    concurrency: int = 32,
    patience: float = 120.0,
) -> Sent:
    """Claim up to ``per_volunteer`` conversations each, post ``replies`` replies, wait for them at Twilio.

    Each volunteer claims and replies at the server they signed in at; any server's outbox may send a reply.
    """
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        first = volunteers[0]
        async with session.get(f"{first.base_url}/api/queue", headers={"Cookie": first.cookie}) as answer:
            waiting = [c["id"] for c in (await answer.json())["conversations"] if c["status"] == "waiting"]
        holders = volunteers[: max(1, len(waiting) // per_volunteer)]
        claims = await asyncio.gather(
            *(_claim(session, v, waiting[i * per_volunteer : (i + 1) * per_volunteer]) for i, v in enumerate(holders))
        )
        held = [(v, cid) for v, ids in zip(holders, claims, strict=True) for cid in ids]
        if not held:
            raise RuntimeError("no conversation could be claimed to reply to")
        slots = asyncio.Semaphore(concurrency)
        refused = 0

        async def reply(index: int) -> None:
            nonlocal refused
            volunteer, conversation_id = held[index % len(held)]
            headers = {"Cookie": volunteer.cookie, "X-CSRF-Token": volunteer.csrf}
            url = f"{volunteer.base_url}/api/conversations/{conversation_id}/messages"
            async with slots, session.post(url, json={"body": REPLY.format(index=index)}, headers=headers) as answer:
                await answer.read()
                if answer.status != 201:
                    refused += 1

        started = time.perf_counter()
        await asyncio.gather(*(reply(i) for i in range(replies)))
    deadline = time.monotonic() + patience
    # The fake API has no signal for "n messages created", so it is polled.
    while len(_replies_at(twilio)) < replies - refused and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    seconds = time.perf_counter() - started
    at_twilio = _replies_at(twilio)
    return Sent(
        posted=replies,
        refused=refused,
        delivered=len(at_twilio),
        duplicated=sum(n - 1 for n in at_twilio.values() if n > 1),
        seconds=seconds,
    )
