"""Threads: what a threaded channel (email) needs to keep each reply in the contact's thread.

Going in, ``Conversations.receive`` finds a conversation by the thread keys of the references a message
quotes, before it tries the sender's routing pseudonym, and seals the channel's reply context (for email:
the subject and the Message-IDs to quote) into the vault beside the address.

Going out, the channel's sender asks this service for the reply context of the outbox item it is
sending, and names the reference it gives its message, so that the contact's answer finds its way back.
A thread key is ``HMAC(k_thread, channel ‖ reference)``: the reference itself is never stored. Thread keys
live exactly as long as the conversation's route (until it closes, or the grace period after that ends),
and the reply context goes with the vault entry.
"""

from __future__ import annotations

from helpline.core.models import Conversation, Inbound
from helpline.core.ports import Cipher, Pseudonymizer, Store, Tx
from helpline.errors import DecryptionError

VAULT_FIELD = "reply_context"


def thread_keys(pseudonyms: Pseudonymizer, inbound: Inbound) -> list[bytes]:
    """The thread keys of the references an inbound message quotes, under every master key version held."""
    return [key for ref in inbound.thread_refs for key in pseudonyms.thread_candidates(inbound.channel, ref)]


async def keep_reply_context(tx: Tx, cipher: Cipher, conversation: Conversation, inbound: Inbound) -> None:
    """Seal the inbound message's reply context into the vault, replacing the one before it."""
    if not inbound.reply_context or conversation.key is None:
        return
    sealed = cipher.seal(conversation.key, "vault", conversation.id, VAULT_FIELD, inbound.reply_context)
    await tx.conversations.put_reply_context(conversation.id, sealed)


class Threads:
    """Reply contexts and thread keys, for the senders of threaded channels."""

    def __init__(self, store: Store, cipher: Cipher, pseudonyms: Pseudonymizer) -> None:
        self._store = store
        self._cipher = cipher
        self._pseudonyms = pseudonyms

    async def context_for(self, outbox_id: str) -> str:
        """The reply context of the conversation this outbox item belongs to; empty if there is none."""

        async def work(tx: Tx) -> tuple[Conversation, bytes] | None:
            item = await tx.outbox.get(outbox_id)
            if item is None:
                return None
            conversation = await tx.conversations.get(item.conversation_id)
            sealed = await tx.conversations.get_reply_context(item.conversation_id)
            if conversation is None or sealed is None:
                return None
            return conversation, sealed

        found = await self._store.read(work)
        if found is None:
            return ""
        conversation, sealed = found
        if conversation.key is None:
            return ""
        try:
            return self._cipher.open(conversation.key, "vault", conversation.id, VAULT_FIELD, sealed)
        except DecryptionError:
            # Altered in the database: the reply goes out without thread headers rather than not at all.
            return ""

    async def name_reply(self, outbox_id: str, channel: str, reference: str) -> None:
        """Remember that the reply being sent for this outbox item carries ``reference``, while routable."""
        key = self._pseudonyms.thread(channel, reference)

        async def work(tx: Tx) -> None:
            item = await tx.outbox.get(outbox_id)
            if item is None:
                return
            conversation = await tx.conversations.get(item.conversation_id)
            if conversation is None:
                return
            # A closed conversation keeps its keys only as long as its route (a grace period after closing).
            if conversation.status != "closed" or await tx.conversations.route_of(conversation.id) is not None:
                await tx.conversations.add_thread_key(key, conversation.id)

        await self._store.write(work)
