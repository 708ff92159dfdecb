"""Web chat's timers: idle warnings and timeouts, heartbeats, and forgetting what has had its time.

A chat is idle while neither the contact (a message, a keystroke, "I'm still here") nor the helpline
(a message) has done anything. ``idle_warning`` before the timeout the contact is warned and can say
they are still there; at the timeout the chat ends as if they had left (reason ``idle``), so that a
chat left open on a shared computer does not stay on the screen.

A chat whose contact sent only their first message and is not there — no chat page open, nothing done
since — ends sooner, after ``first_message_grace``, also as ``idle``: otherwise anyone could send one
message from each of many chats, leave, and hold every place in the chat (``max_concurrent``) for the
whole idle timeout. A contact who keeps the chat open, comes back (``Check for replies`` without
JavaScript), or writes again keeps the chat for the usual idle timeout. A quiet socket gets a heartbeat frame
every ``heartbeat``, so a browser can tell a dead connection from a quiet chat and reconnect.

``run_once`` does one round at the clock's current time (tests advance a fake clock and call it);
``run`` repeats it every ``tick_seconds``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from helpline.channels.webchat import protocol
from helpline.channels.webchat.registry import Chat, ChatRegistry
from helpline.channels.webchat.service import ChatService
from helpline.clock import Clock
from helpline.log import get_logger

log = get_logger(__name__)


class ChatSweeper:
    def __init__(
        self,
        service: ChatService,
        registry: ChatRegistry,
        clock: Clock,
        *,
        idle_timeout: timedelta,
        idle_warning: timedelta,
        first_message_grace: timedelta,
        heartbeat: timedelta,
        tick_seconds: float = 5.0,
    ) -> None:
        self._service = service
        self._registry = registry
        self._clock = clock
        self._idle_timeout = idle_timeout
        self._idle_warning = idle_warning
        self._first_message_grace = first_message_grace
        self._heartbeat = heartbeat
        self._tick = tick_seconds

    async def run_once(self) -> None:
        now = self._clock.now()
        for chat in self._registry.chats():
            idle = now - chat.last_activity
            if chat.conversation_id is None:
                # Never started: nothing to end, and nothing kept once no page is open.
                if not chat.listeners and idle >= self._idle_timeout:
                    self._registry.forget(chat)
            elif idle >= self._idle_timeout or self._left_after_first_message(chat, idle):
                await self._service.end(chat, "idle")
                continue
            elif idle >= self._idle_timeout - self._idle_warning and not chat.warned:
                chat.warned = True
                left = round((self._idle_timeout - idle).total_seconds())
                for listener in list(chat.listeners):
                    await listener.send(protocol.encode("idle_warning", seconds_left=left))
            for listener in list(chat.listeners):
                if now - listener.last_sent >= self._heartbeat:
                    await listener.send(protocol.encode("heartbeat"))
        self._service.limits.sweep()
        self._registry.sweep_ended(now)

    def _left_after_first_message(self, chat: Chat, idle: timedelta) -> bool:
        return chat.sent <= 1 and not chat.listeners and idle >= self._first_message_grace

    async def run(self) -> None:
        """Until cancelled: a round every tick; one bad round never stops the next."""
        while True:
            try:
                await self.run_once()
            except Exception as exc:  # noqa: BLE001 - the timers must outlive a bad round
                log.error("webchat.sweep_failed", error=type(exc).__name__)
            await asyncio.sleep(self._tick)
