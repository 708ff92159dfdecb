"""Delivering the helpline's replies to a web chat: the ``webchat`` ``Sender`` for the outbound worker.

The reply is already in the database when the worker calls ``send``; delivering it means telling the
contact's open sockets to catch up, which sends it (and anything else not yet shown) in sequence order.
A contact with no socket open just now reads it from the database when they reconnect, so a send
never fails for want of a socket. A contact who has left has no address any more: the worker fails
those replies before calling here.
"""

from __future__ import annotations

from helpline.channels.webchat.registry import ChatRegistry
from helpline.channels.webchat.service import ChatService


class WebchatSender:
    """Implements ``core.ports.Sender`` for web chat, in-process."""

    def __init__(self, service: ChatService, registry: ChatRegistry) -> None:
        self._service = service
        self._registry = registry

    async def send(self, address: str, body: str, ref: str) -> str:
        chat = self._registry.get(address)
        if chat is not None:
            # A message from the helpline restarts the idle timer: the contact may be reading it.
            self._service.touch(chat)
            for listener in list(chat.listeners):
                await listener.catch_up()
        return f"webchat-{ref}"
