"""Web chat's listener on the event bus: what the contact sees change while they are connected.

- the queue moved (a conversation opened, was claimed, transferred, closed or left): every waiting chat
  with an open socket gets its new place and rough wait, if they changed;
- a volunteer claimed the chat: the contact is told someone is with them;
- the volunteer ended the conversation: the contact sees the last messages, then that it has ended;
- a reply was sent (by any instance's outbox): the contact's sockets here catch up, and the chat's idle timer
  starts again (the contact may be reading it), as when this instance's outbox sends it;
- the volunteer is typing;
- the bus overflowed: everything above is worked out again from the database.

Events carry ids only; what the contact is sent is read from the database or from the chat's own state.
"""

from __future__ import annotations

from helpline.channels.webchat import protocol
from helpline.channels.webchat.registry import Chat, ChatRegistry
from helpline.channels.webchat.service import ChatService, ChatStatus, status_text
from helpline.core.events import (
    ContactLeft,
    ConversationClaimed,
    ConversationClosed,
    ConversationOpened,
    ConversationTransferred,
    DeliveryChanged,
    Event,
    VolunteerTyping,
)
from helpline.core.ports import Notifier
from helpline.log import get_logger

log = get_logger(__name__)
_QUEUE_MOVES = (ConversationOpened, ConversationClaimed, ConversationTransferred, ConversationClosed, ContactLeft)


class ChatEvents:
    """Turns bus events into frames for the chats they concern."""

    def __init__(self, service: ChatService, registry: ChatRegistry, notifier: Notifier) -> None:
        self._service = service
        self._registry = registry
        self._notifier = notifier

    async def run(self) -> None:
        """Until cancelled: handle every event; a failure with one event never stops the next."""
        subscription = self._notifier.subscribe()
        try:
            async for event in subscription:
                try:
                    await self.handle(event)
                except Exception as exc:  # noqa: BLE001 - the listener must outlive a bad event
                    log.error("webchat.event_failed", event_name=event.name, error=type(exc).__name__)
        finally:
            subscription.close()

    async def handle(self, event: Event) -> None:
        chat = self._registry.by_conversation(event.conversation_id) if event.conversation_id else None
        if isinstance(event, ConversationClaimed):
            self._service.estimate.claimed()
            if chat is not None and chat.state != "active":
                chat.state = "active"
                await self._broadcast(chat, "active", "A volunteer has joined the chat.")
        elif isinstance(event, ConversationTransferred) and event.assignee is None and chat is not None:
            chat.state = "waiting"
            chat.position = None
        elif isinstance(event, ConversationClosed) and chat is not None:
            await self._service.finish(chat, "volunteer")
        elif isinstance(event, DeliveryChanged) and event.delivery == "sent" and chat is not None:
            # Sent by whichever instance's outbox took it; the contact's sockets may be held here.
            self._service.touch(chat)
            for listener in list(chat.listeners):
                await listener.catch_up()
        elif isinstance(event, VolunteerTyping) and chat is not None:
            for listener in list(chat.listeners):
                await listener.send(protocol.encode("typing", active=event.active))
        if isinstance(event, _QUEUE_MOVES) or event.name == "bus.overflowed":
            await self.queue_moved(full=event.name == "bus.overflowed")

    async def queue_moved(self, *, full: bool = False) -> None:
        """Send each connected, waiting chat its place in the queue when it changed (or always, if ``full``)."""
        waiting = [c for c in self._registry.chats() if c.state == "waiting" and c.listeners]
        if not waiting:
            return
        order = await self._service.waiting_order()
        for chat in waiting:
            if chat.conversation_id not in order:
                continue
            position = order.index(chat.conversation_id) + 1
            if position == chat.position and not full:
                continue
            chat.position = position
            wait = self._service.estimate.words(position)
            text = status_text(ChatStatus("waiting", position, wait))
            for listener in list(chat.listeners):
                await listener.send(protocol.encode("queue", position=position, wait=wait, text=text))

    @staticmethod
    async def _broadcast(chat: Chat, state: str, text: str) -> None:
        for listener in list(chat.listeners):
            await listener.send(protocol.encode("status", state=state, text=text))
