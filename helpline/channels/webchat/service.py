"""What a contact can do in a web chat, whichever way they reach it (the socket or the plain HTML forms).

Every message goes through ``core.Conversations.receive`` as an ``Inbound`` on the ``webchat`` channel:
the address is the chat's opaque id (see ``tokens``), and the provider message id is that address with
the browser's own message id, so a message resent after a reconnect is stored once. Every refusal comes
back as a ``Refusal`` with a sentence for the contact: nothing is ever dropped silently.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from helpline.channels.webchat import protocol
from helpline.channels.webchat.limits import Limits
from helpline.channels.webchat.registry import Chat, ChatRegistry
from helpline.channels.webchat.tokens import ChatToken, ChatTokens, TokenProblem
from helpline.channels.webchat.waiting import WaitEstimate
from helpline.clock import Clock, to_text
from helpline.core.conversations import Conversations
from helpline.core.hours import HoursBook
from helpline.core.models import Inbound, Message
from helpline.log import get_logger

CHANNEL = "webchat"
log = get_logger(__name__)

ENDED_TEXT = {
    "ended": "You ended the chat.",
    "quick_exit": "You left the chat.",
    "idle": "The chat ended because it was quiet for a while. You can start a new one at any time.",
    "volunteer": "The volunteer has ended the chat. Thank you for talking to us.",
}


@dataclass(frozen=True)
class Refusal:
    """Why the contact's request was not done, in words for them."""

    code: str
    message: str
    retry_after: float | None = None

    def frame(self, ref: str | None = None) -> str:
        extra: dict[str, object] = {}
        if ref is not None:
            extra["ref"] = ref
        if self.retry_after is not None:
            extra["retry_after"] = max(1, round(self.retry_after))
        return protocol.encode("error", code=self.code, message=self.message, **extra)


@dataclass(frozen=True)
class Posted:
    """A message was taken: stored (``message_id``), a resend of a stored one, or dropped (a block)."""

    message_id: str | None
    duplicate: bool


@dataclass(frozen=True)
class ContactMessage:
    """One line of the transcript as the contact sees it."""

    id: str
    seq: int
    sender: str
    body: str = field(repr=False)
    at: datetime

    def frame(self) -> str:
        fields = {"id": self.id, "seq": self.seq, "from": self.sender, "body": self.body, "at": to_text(self.at)}
        return protocol.encode("message", **fields)


@dataclass(frozen=True)
class ChatStatus:
    state: str
    position: int | None = None
    wait: str | None = None


@dataclass(frozen=True)
class ChatRules:
    max_message_chars: int
    max_concurrent: int
    network_live_chats: int
    out_of_hours_message: str
    signposting: tuple[str, ...]


class ChatService:
    """Starts, resumes, posts to and ends chats."""

    def __init__(
        self,
        conversations: Conversations,
        hours: HoursBook,
        tokens: ChatTokens,
        registry: ChatRegistry,
        limits: Limits,
        estimate: WaitEstimate,
        clock: Clock,
        rules: ChatRules,
    ) -> None:
        self._conversations = conversations
        self._hours = hours
        self._tokens = tokens
        self.registry = registry
        self.limits = limits
        self.estimate = estimate
        self._clock = clock
        self.rules = rules

    def is_open(self) -> bool:
        return self._hours.current.is_open(self._clock.now())

    def closed_text(self) -> str:
        """What a contact is told while the line is closed: the closed message an admin set for every channel
        (``webchat.out_of_hours_message`` if none), and when it opens again."""
        return self._hours.current.closed_text(self._clock.now(), self.rules.out_of_hours_message)

    def start(self) -> tuple[ChatToken, Chat]:
        """A new chat with a new token; it has no conversation until its first message."""
        token = self._tokens.issue()
        return token, self.registry.get_or_add(token.address, token.expires_at, self._clock.now())

    async def resume(self, text: str) -> tuple[ChatToken, Chat] | Refusal:
        """The chat a token belongs to, found again after a reload or reconnect."""
        token = self._tokens.verify(text)
        if token is TokenProblem.FORGED:
            log.info("webchat.token_refused", problem="forged")
            return Refusal("bad_token", "This chat could not be found. You can start a new one.")
        if token is TokenProblem.EXPIRED or self.registry.has_ended(token.address):
            return Refusal("ended", "This chat has ended. You can start a new one.")
        chat = self.registry.get_or_add(token.address, token.expires_at, self._clock.now())
        if chat.conversation_id is None:
            conversation = await self._conversations.find_open(CHANNEL, token.address)
            if conversation is not None:
                self.registry.attach(chat, conversation.id)
                chat.state = "waiting" if conversation.status == "waiting" else "active"
        return token, chat

    async def post(self, chat: Chat, client_id: str, body: str, network: bytes) -> Posted | Refusal:
        """Store one message from the contact, or say why not."""
        refusal = self._check_message(chat, body)
        if refusal is None and chat.conversation_id is None:
            refusal = self._check_new_chat(network)
        if refusal is not None:
            return refusal
        wait = self.limits.session_messages.take(chat.address)
        if wait is not None:
            return Refusal("slow_down", "You are sending messages very quickly. Please wait a moment.", wait)
        wait = self.limits.network_messages.take(network)
        if wait is not None:
            return Refusal("network_busy", "Too many messages are coming from your network. Please wait.", wait)
        inbound = Inbound(CHANNEL, chat.address, f"{chat.address}/{client_id}", body)
        # Once sent, a message is stored and announced even if the connection drops while it is.
        received = await asyncio.shield(self._conversations.receive(inbound))
        if received.conversation_id is not None:
            if chat.conversation_id is None:
                chat.network = network
            self.registry.attach(chat, received.conversation_id)
            if chat.state == "new":
                chat.state = "waiting"
        if not received.duplicate:
            chat.sent += 1
        self.touch(chat)
        log.info(
            "webchat.received",
            conversation_id=received.conversation_id,
            message_id=received.message_id,
            duplicate=received.duplicate,
        )
        return Posted(received.message_id, received.duplicate)

    def _check_message(self, chat: Chat, body: str) -> Refusal | None:
        if self.registry.has_ended(chat.address):
            return Refusal("ended", "This chat has ended. You can start a new one.")
        if not body.strip():
            return Refusal("empty", "Write a message before sending.")
        if len(body) > self.rules.max_message_chars:
            return Refusal(
                "too_long",
                f"Your message is too long: it can be up to {self.rules.max_message_chars} characters. "
                "Please shorten it, or send it in parts.",
            )
        return None

    def _check_new_chat(self, network: bytes) -> Refusal | None:
        if not self.is_open():
            return Refusal("closed", self.closed_text())
        if self.registry.started() >= self.rules.max_concurrent:
            log.info("webchat.refused", code="busy")
            return Refusal(
                "busy",
                "All our volunteers are busy and the chat is full just now. Please try again in a few minutes. "
                "If you are in danger now, call 999.",
            )
        if self.registry.started_from(network) >= self.rules.network_live_chats:
            log.info("webchat.refused", code="network_full")
            return Refusal(
                "network_full",
                "Too many chats are open from your network just now. Please try again in a few minutes. "
                "If you are in danger now, call 999.",
            )
        wait = self.limits.network_chats.take(network)
        if wait is not None:
            log.info("webchat.refused", code="too_many_chats")
            return Refusal(
                "too_many_chats",
                "Too many chats have been started from your network. Please try again later. "
                "If you are in danger now, call 999.",
                wait,
            )
        return None

    def touch(self, chat: Chat) -> None:
        """The contact (or the helpline) did something: the idle timer starts again."""
        chat.last_activity = self._clock.now()
        chat.warned = False

    def typing(self, chat: Chat, active: bool) -> None:
        """Pass the contact's typing to the console, at most once a second while it goes on."""
        self.touch(chat)
        if chat.conversation_id is None:
            return
        now = self._clock.now()
        if active and chat.typing_sent_at is not None and (now - chat.typing_sent_at).total_seconds() < 1:
            return
        chat.typing_sent_at = now if active else None
        self._conversations.contact_typing(chat.conversation_id, active)

    async def end(self, chat: Chat, reason: str) -> None:
        """The contact ended the chat, used quick exit, or let it time out."""
        first = not self.registry.has_ended(chat.address)
        self.registry.end(chat)
        # Someone leaving in a hurry closes the connection at once: what they asked for still happens.
        await asyncio.shield(self._leave(chat, reason, first=first))
        await self.finish(chat, reason)

    async def _leave(self, chat: Chat, reason: str, *, first: bool) -> None:
        conversation_id = await self._conversations.contact_left(CHANNEL, chat.address, reason)
        if first:
            log.info("webchat.ended", conversation_id=conversation_id, reason=reason)

    async def finish(self, chat: Chat, reason: str) -> None:
        """Tell every open socket of the chat that it has ended, after anything it has not yet shown."""
        self.registry.end(chat)
        frame = protocol.encode("ended", reason=reason, text=ENDED_TEXT.get(reason, ENDED_TEXT["ended"]))
        for listener in list(chat.listeners):
            if reason == "volunteer":
                await listener.catch_up()
            await listener.finish(frame, protocol.CLOSE_NORMAL, "The chat has ended")

    async def transcript(self, chat: Chat, after: int) -> list[ContactMessage]:
        if chat.conversation_id is None:
            return []
        messages = await self._conversations.contact_transcript(chat.conversation_id, after)
        return [_contact_message(m) for m in messages]

    async def waiting_order(self) -> list[str]:
        return await self._conversations.waiting_order()

    async def status(self, chat: Chat) -> ChatStatus:
        if chat.state != "waiting" or chat.conversation_id is None:
            return ChatStatus(chat.state)
        order = await self.waiting_order()
        if chat.conversation_id not in order:
            return ChatStatus(chat.state)
        position = order.index(chat.conversation_id) + 1
        chat.position = position
        return ChatStatus("waiting", position, self.estimate.words(position))


def _contact_message(message: Message) -> ContactMessage:
    sender = "you" if message.direction == "in" else "volunteer" if message.author else "helpline"
    return ContactMessage(message.id, message.seq, sender, message.body, message.created_at)


def status_text(status: ChatStatus) -> str:
    """The line above the transcript that says where the contact stands."""
    if status.state == "waiting":
        if status.position is None:
            return "You are in the queue. A volunteer will be with you as soon as they can."
        place = "next" if status.position == 1 else f"number {status.position}"
        return f"You are {place} in the queue. Rough wait: {status.wait}."
    if status.state == "active":
        return "A volunteer is with you."
    if status.state == "new":
        return "Write your message below to start the chat."
    return ""
