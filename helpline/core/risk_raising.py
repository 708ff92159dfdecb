"""The meaning layer's action: keep what a message was read as, and raise its conversation's priority.

It runs after the message was committed, off the request path (``workers/meaning.py``). It can only raise:
``raise_priority`` is one atomic "raise to the higher of the two" statement, so it never lowers a priority
that the lexicon, a later message or a volunteer set, and two raises in a race end at the higher band.
The reading is sealed under the conversation's data key, like the message itself; when the priority rises, the
strongest match becomes the conversation's top reason on the queue row ("similar in meaning to: …"), sealed
likewise. Nothing is audited: like the lexicon's band, it is the machine's prompt for a volunteer, not a decision.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from helpline.core.events import RiskRaised
from helpline.core.models import KeyRef
from helpline.core.ports import Cipher, Notifier, Store, Tx
from helpline.core.publishing import write_and_publish
from helpline.core.risk import Band
from helpline.core.risk_meaning import MeaningMatch

# Where the sealed reading lives, for its AAD: the message's row, field "meaning".
_TABLE = "messages"
_FIELD = "meaning"


class RiskRaiser:
    """Stores a message's meaning matches and raises its conversation's priority to their highest band."""

    def __init__(self, store: Store, cipher: Cipher, notifier: Notifier) -> None:
        self._store = store
        self._cipher = cipher
        self._notifier = notifier

    async def apply(self, conversation_id: str, message_id: str, matches: Sequence[MeaningMatch]) -> bool:
        """Keep the matches with the message and raise the priority; True if it rose. Publishes after commit."""
        if not matches:
            return False
        top = max(matches, key=lambda match: (match.band, match.strength))
        band = top.band
        reading = json.dumps([_as_json(match) for match in matches], separators=(",", ":"))
        why = json.dumps({"category": top.category, "reason": f"similar in meaning to: {top.prototype}"})

        async def work(tx: Tx) -> bool | None:
            conversation = await tx.conversations.get(conversation_id)
            if conversation is None or conversation.key is None:
                return None  # purged or shredded meanwhile: nothing to keep, nothing to raise
            sealed = self._cipher.seal(conversation.key, _TABLE, message_id, _FIELD, reading)
            await tx.messages.set_meaning(message_id, sealed)
            # As the lexicon's reason is sealed (``Conversations._add_message``): its table, row and field.
            sealed_why = self._cipher.seal(conversation.key, "conversations", conversation_id, "risk_why", why)
            return await tx.conversations.raise_priority(conversation_id, int(band), sealed_why)

        raised = await write_and_publish(
            self._store,
            self._notifier,
            work,
            lambda done: [] if done is None else [RiskRaised(conversation_id, message_id, int(band))],
        )
        return bool(raised)


def open_meaning(cipher: Cipher, key: KeyRef, message_id: str, sealed: bytes | None) -> tuple[MeaningMatch, ...]:
    """A stored reading opened again (for the conversation view); empty when there is none."""
    if sealed is None:
        return ()
    text = cipher.open(key, _TABLE, message_id, _FIELD, sealed)
    return tuple(
        MeaningMatch(item["category"], item["prototype"], float(item["strength"]), Band(int(item["band"])))
        for item in json.loads(text)
    )


def _as_json(match: MeaningMatch) -> dict[str, object]:
    return {
        "category": match.category,
        "prototype": match.prototype,
        "strength": match.strength,
        "band": int(match.band),
    }
