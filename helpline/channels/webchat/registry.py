"""The chats this server is serving now, in memory: who is connected, how long each has been quiet.

Nothing here is durable, and nothing needs to be: the database holds the conversation, and a browser
that reconnects after a restart is found again through its token. What a restart forgets:

- an idle timer, which starts again when the contact comes back;
- that a chat has ended (``ended``), kept only so an ended chat's token cannot be used again until it
  expires. After a restart such a token finds no conversation, so it can only start a new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class Listener(Protocol):
    """One open chat socket, as the rest of the channel reaches it."""

    last_sent: datetime

    async def catch_up(self) -> None:
        """Send every message stored since the last one this socket sent."""

    async def send(self, frame: str) -> None: ...
    async def finish(self, frame: str, code: int, reason: str) -> None:
        """Send a last frame and close the socket."""


@dataclass(eq=False)
class Chat:
    """One contact's chat: from its token's first use until it ends."""

    address: str = field(repr=False)
    expires_at: datetime
    last_activity: datetime
    conversation_id: str | None = None
    state: str = "new"
    position: int | None = None
    warned: bool = False
    typing_sent_at: datetime | None = None
    # The keyed tag of the network the chat was started from (memory only; None for a chat resumed after a
    # restart), and how many messages the contact has sent it since this server started.
    network: bytes | None = field(default=None, repr=False)
    sent: int = 0
    listeners: set[Listener] = field(default_factory=set)


class ChatRegistry:
    """Every chat in progress, by address and by conversation."""

    def __init__(self) -> None:
        self._chats: dict[str, Chat] = {}
        self._by_conversation: dict[str, Chat] = {}
        self._ended: dict[str, datetime] = {}

    def get_or_add(self, address: str, expires_at: datetime, now: datetime) -> Chat:
        chat = self._chats.get(address)
        if chat is None:
            chat = Chat(address, expires_at, now)
            self._chats[address] = chat
        return chat

    def get(self, address: str) -> Chat | None:
        return self._chats.get(address)

    def by_conversation(self, conversation_id: str) -> Chat | None:
        return self._by_conversation.get(conversation_id)

    def attach(self, chat: Chat, conversation_id: str) -> None:
        """The chat's messages go to this conversation."""
        if chat.conversation_id is not None and chat.conversation_id != conversation_id:
            self._by_conversation.pop(chat.conversation_id, None)
        chat.conversation_id = conversation_id
        self._by_conversation[conversation_id] = chat

    def chats(self) -> list[Chat]:
        return list(self._chats.values())

    def started(self) -> int:
        """How many chats have a conversation: what ``max_concurrent`` counts."""
        return len(self._by_conversation)

    def started_from(self, network: bytes) -> int:
        """How many started chats came from ``network``: what ``network_live_chats`` counts."""
        return sum(1 for chat in self._by_conversation.values() if chat.network == network)

    def has_ended(self, address: str) -> bool:
        return address in self._ended

    def end(self, chat: Chat) -> None:
        """Forget the chat, and refuse its token from now until the token expires."""
        self._ended[chat.address] = chat.expires_at
        self.forget(chat)

    def forget(self, chat: Chat) -> None:
        if self._chats.get(chat.address) is chat:
            del self._chats[chat.address]
        if chat.conversation_id is not None and self._by_conversation.get(chat.conversation_id) is chat:
            del self._by_conversation[chat.conversation_id]

    def release(self, chat: Chat, listener: Listener) -> None:
        """A socket closed; a chat that never started and has no socket left is forgotten."""
        chat.listeners.discard(listener)
        if not chat.listeners and chat.conversation_id is None:
            self.forget(chat)

    def sweep_ended(self, now: datetime) -> None:
        """Forget ended chats whose tokens have expired anyway."""
        for address in [a for a, expires in self._ended.items() if expires <= now]:
            del self._ended[address]
