"""The web chat channel's parts, built from ``[webchat]`` settings, and its background tasks.

``app.py`` builds one ``WebchatChannel`` with the core objects and two keyed MACs derived from the master
key (one signs tokens, one tags networks), registers its ``sender`` for the ``webchat`` channel, routes
its handlers, and starts it with the app.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import timedelta

from helpline.channels.webchat.forms import ChatPages, origin_of
from helpline.channels.webchat.limits import ConnectionCounter, Limits, NetworkTags, RateLimiter
from helpline.channels.webchat.live import ChatEvents
from helpline.channels.webchat.registry import ChatRegistry
from helpline.channels.webchat.sender import WebchatSender
from helpline.channels.webchat.service import ChatRules, ChatService
from helpline.channels.webchat.socket import ChatSockets
from helpline.channels.webchat.sweeper import ChatSweeper
from helpline.channels.webchat.tokens import ChatTokens, Keyed
from helpline.channels.webchat.waiting import WaitEstimate
from helpline.clock import Clock
from helpline.core.conversations import Conversations
from helpline.core.hours import HoursBook
from helpline.core.ports import Notifier
from helpline.settings import WebchatSettings


@dataclass
class WebchatChannel:
    """Every part of the web chat, wired."""

    service: ChatService
    registry: ChatRegistry
    sender: WebchatSender
    sockets: ChatSockets
    pages: ChatPages
    events: ChatEvents
    sweeper: ChatSweeper
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self, *, run_timers: bool) -> None:
        """Listen to the bus (always: it carries the live updates) and, unless told not to, run the timers."""
        self._tasks.append(asyncio.create_task(self.events.run(), name="webchat-events"))
        if run_timers:
            self._tasks.append(asyncio.create_task(self.sweeper.run(), name="webchat-timers"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()


def build_webchat(
    settings: WebchatSettings,
    *,
    public_url: str,
    conversations: Conversations,
    hours: HoursBook,
    notifier: Notifier,
    clock: Clock,
    token_key: Keyed,
    network_key: Keyed,
) -> WebchatChannel:
    registry = ChatRegistry()
    limits = Limits(
        session_messages=RateLimiter(clock, capacity=settings.session_messages_per_minute, window=timedelta(minutes=1)),
        network_messages=RateLimiter(clock, capacity=settings.network_messages_per_minute, window=timedelta(minutes=1)),
        network_chats=RateLimiter(clock, capacity=settings.network_chats_per_hour, window=timedelta(hours=1)),
        connections=ConnectionCounter(settings.network_connections),
    )
    rules = ChatRules(
        max_message_chars=settings.max_message_chars,
        max_concurrent=settings.max_concurrent,
        network_live_chats=settings.network_live_chats,
        out_of_hours_message=settings.out_of_hours_message,
        signposting=settings.signposting,
    )
    service = ChatService(
        conversations,
        hours,
        ChatTokens(token_key, clock, max_age=timedelta(hours=settings.session_max_hours)),
        registry,
        limits,
        WaitEstimate(clock, minutes_per_place=settings.minutes_per_place),
        clock,
        rules,
    )
    networks = NetworkTags(network_key)
    sockets = ChatSockets(
        service,
        networks,
        clock,
        origin=origin_of(public_url),
        heartbeat_seconds=settings.heartbeat_seconds,
        trusted_proxy_hops=settings.trusted_proxy_hops,
    )
    pages = ChatPages(
        service,
        networks,
        title=settings.page_title,
        exit_url=settings.exit_url,
        public_url=public_url,
        frame_ancestors=settings.frame_ancestors,
        heartbeat_seconds=settings.heartbeat_seconds,
        trusted_proxy_hops=settings.trusted_proxy_hops,
        timezone=hours.current.timezone,
    )
    sweeper = ChatSweeper(
        service,
        registry,
        clock,
        idle_timeout=timedelta(seconds=settings.idle_timeout_seconds),
        idle_warning=timedelta(seconds=settings.idle_warning_seconds),
        first_message_grace=timedelta(seconds=settings.first_message_grace_seconds),
        heartbeat=timedelta(seconds=settings.heartbeat_seconds),
        tick_seconds=min(5.0, settings.heartbeat_seconds / 5),
    )
    return WebchatChannel(
        service=service,
        registry=registry,
        sender=WebchatSender(service, registry),
        sockets=sockets,
        pages=pages,
        events=ChatEvents(service, registry, notifier),
        sweeper=sweeper,
    )
