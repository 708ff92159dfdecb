"""A moment in a made-up shift, for the screenshots of the queue, a conversation and the floor.

Everything goes through the real core (arrive, claim, reply, flag, a chat whose contact left) with the clock moved
forward step by step, so the same shift comes out the same each time. Returns the ids the shots' paths name.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from helpline.app import Helpline
from helpline.core.models import Inbound

START = datetime(2026, 2, 3, 19, 0, tzinfo=UTC)  # a Tuesday evening; Europe/London is on UTC in February
STAFF = {"amira": "volunteer", "ben": "volunteer", "chloe": "volunteer", "sam": "supervisor"}


class _Texts:
    """Contacts writing in, each with its own made-up number and message ids."""

    def __init__(self, helpline: Helpline, clock: Any) -> None:
        self._helpline = helpline
        self._clock = clock
        self._sent = 0

    async def write(self, number: str, body: str, *, channel: str = "sms", minutes: float = 1) -> str:
        self._clock.advance(minutes=minutes)
        self._sent += 1
        received = await self._helpline.conversations.receive(Inbound(channel, number, f"demo-{self._sent}", body))
        assert received.conversation_id is not None
        return received.conversation_id


async def play(helpline: Helpline, clock: Any, password: str) -> dict[str, str]:
    """A busy evening: three volunteers holding conversations, people waiting, one flag, one chat that left."""
    users = {name: await helpline.accounts.add_user(name, role, password) for name, role in STAFF.items()}
    for name in ("amira", "ben", "chloe"):
        await helpline.accounts.sign_in(name, password)
    amira, ben, chloe = users["amira"], users["ben"], users["chloe"]
    # Everyone on shift has the console open on their own machine.
    for user in (amira, ben, chloe):
        helpline.shift.presence.opened(user.id, clock.now())
    texts = _Texts(helpline, clock)
    conversations, routing = helpline.conversations, helpline.routing

    held = await texts.write("+447700900301", "hi. i dont know if i should be texting this", minutes=2)
    await routing.claim(amira, held)
    clock.advance(minutes=1)
    await conversations.reply(amira, held, "Hi, I'm Amira. I'm glad you texted. What's been happening tonight?")
    await texts.write("+447700900301", "my mum kicked me out after a fight and im at the bus station")
    clock.advance(minutes=2)
    await conversations.reply(amira, held, "Thank you for telling me. Are you somewhere warm and safe right now?")
    await texts.write("+447700900301", "sort of. i took some of her pills before i left")
    await texts.write("+447700900301", "i took some already. about 10. im scared", minutes=0.5)

    other = await texts.write("+447700900302", "can someone help me find my brother, he's 14 and hasn't come home")
    await routing.claim(amira, other)
    clock.advance(minutes=1)
    await conversations.reply(amira, other, "Of course. When did you last hear from him?")

    bens = await texts.write("+447700900303", "is this the number for missing people")
    await routing.claim(ben, bens)
    await conversations.reply(ben, bens, "Yes, it is. You can tell me as much or as little as you like.")
    flagged = await texts.write("+447700900303", "my boyfriend takes my phone and says i cant leave the flat")
    await helpline.escalations.raise_flag(
        ben, flagged, "abuse", "significant_harm", "Controlled by partner; asks for help"
    )
    chloes = await texts.write("+447700900304", "hello")
    await routing.claim(chloe, chloes)

    await texts.write("+447700900305", "i want to kill myself", minutes=3)
    await texts.write("+447700900306", "my daughter ran away this afternoon, she is 15", minutes=2)
    await texts.write("+447700900307", "hi is anyone there")
    await texts.write("chat-demo-token", "hello? i need to talk to someone", channel="webchat")
    await conversations.contact_left("webchat", "chat-demo-token", "quick_exit")
    await texts.write("+447700900308", "hey can i ask something", minutes=2)
    clock.advance(minutes=3)
    return {"held": held}
