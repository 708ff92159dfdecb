"""Four weeks of a small helpline, made up deterministically, for screenshots and demos of the Reports page.

Every conversation goes through the real core (arrive, claim, reply, close, flag, decide) with the clock
moved forward step by step; the same seed always makes the same four weeks.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from helpline.app import Helpline
from helpline.core.closing import ClosingForm
from helpline.core.models import Inbound, RecordFields, User

START = datetime(2026, 2, 2, 7, 0, tzinfo=UTC)  # a Monday; Europe/London is on UTC until the end of March
DAYS = 28
FIRST_DAY, LAST_DAY = "2026-02-02", "2026-03-01"
STAFF = {"sam": "supervisor", "priya": "supervisor", "ola": "volunteer", "ben": "volunteer", "chen": "volunteer"}
CHANNELS = (("sms", 6), ("webchat", 3), ("email", 1))
OUTCOMES = (("advice", 5), ("support", 6), ("referred", 2), ("no_reply", 2), ("silent_or_test", 1), ("abusive", 1))
CONTACT_TYPES = (("missing_person", 3), ("family_or_friend", 5), ("professional", 1), ("other", 1))
MISSING_TYPES = (("runaway_or_thrown_out", 5), ("parental_abduction", 1), ("adult_missing", 2), (None, 3))
CATEGORIES = ("suicide", "self_harm", "abuse", "exploitation", "missing_child")


def _pick(rng: random.Random, weighted: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


class _Clock:
    def __init__(self, clock: Any) -> None:
        self._clock = clock

    def to(self, moment: datetime) -> None:
        delta = (moment - self._clock.now()).total_seconds()
        if delta > 0:
            self._clock.advance(seconds=delta)

    def now(self) -> datetime:
        now: datetime = self._clock.now()
        return now


async def play(helpline: Helpline, fake_clock: Any, password: str, seed: int = 116000) -> None:
    """Four weeks from ``START``: two volunteers on each day's shift, 6 to 14 contacts a day."""
    rng = random.Random(seed)  # noqa: S311 - made-up demo data, the same for every run
    clock = _Clock(fake_clock)
    users: dict[str, User] = {}
    for name, role in STAFF.items():
        users[name] = await helpline.accounts.add_user(name, role, password)
    volunteers = [users[n] for n in ("ola", "ben", "chen")]
    supervisors = [users["sam"], users["priya"]]
    texter = 0
    consented: list[str] = []
    for day in range(DAYS):
        morning = START + timedelta(days=day)
        clock.to(morning)
        shift = rng.sample(volunteers, 2)
        sessions = [await helpline.accounts.sign_in(v.username, password) for v in shift]
        # Evenings are busiest: arrival hours weighted towards 16:00-21:00.
        hours = rng.choices(range(8, 22), weights=[1, 1, 2, 2, 2, 2, 3, 3, 4, 5, 6, 6, 5, 3], k=rng.randint(6, 14))
        arrivals = sorted(morning.replace(hour=h, minute=rng.randrange(60)) for h in hours)
        for arrival in arrivals:
            clock.to(arrival)
            texter += 1
            channel = _pick(rng, CHANNELS)
            address = {"sms": f"+4477009{texter:05d}", "webchat": f"chat-{texter}", "email": f"c{texter}@example.org"}
            if channel == "sms" and consented and rng.random() < 0.2:
                address["sms"] = rng.choice(consented)  # someone who agreed to a record writes again
            received = await helpline.conversations.receive(
                Inbound(channel, address[channel], f"demo-{texter}", "Hello, can someone help?")
            )
            conversation_id = received.conversation_id
            assert conversation_id is not None
            volunteer = rng.choice(shift)
            if channel == "webchat" and rng.random() < 0.15:
                clock.to(clock.now() + timedelta(minutes=rng.randint(1, 6)))
                await helpline.conversations.contact_left(channel, address[channel], "quick_exit")
                await helpline.routing.claim(volunteer, conversation_id)
                await helpline.closer.close(volunteer, conversation_id, ClosingForm("no_reply"))
                continue
            clock.to(clock.now() + timedelta(seconds=rng.choice([20, 45, 90, 150, 240, 420, 600, 900, 1500, 2400])))
            await helpline.routing.claim(volunteer, conversation_id)
            await helpline.conversations.reply(volunteer, conversation_id, "Hello, I'm here. What's happened?")
            if rng.random() < 0.12:
                clock.to(clock.now() + timedelta(minutes=rng.randint(2, 10)))
                level = rng.choice(("concern", "significant_harm", "immediate_danger"))
                flag = await helpline.escalations.raise_flag(
                    volunteer, conversation_id, rng.choice(CATEGORIES), level, "Demo escalation"
                )
                clock.to(clock.now() + timedelta(seconds=rng.choice([30, 60, 100, 180, 400])))
                supervisor = rng.choice(supervisors)
                await helpline.escalations.acknowledge(supervisor, flag)
                if level == "immediate_danger" and rng.random() < 0.5:
                    reason = "Police need the address to check the contact is safe tonight"
                    asked = await helpline.disclosures.request(supervisor, conversation_id, reason)
                    clock.to(clock.now() + timedelta(minutes=rng.randint(1, 4)))
                    second = supervisors[1 - supervisors.index(supervisor)]
                    await helpline.disclosures.decide(second, asked.id, approve=rng.random() < 0.8)
                clock.to(clock.now() + timedelta(minutes=rng.randint(3, 15)))
                decision = rng.choice(("advice_given", "referred", "emergency_services", "no_further_action"))
                await helpline.escalations.decide(supervisor, flag, decision, "Demo decision")
                await helpline.escalations.close(supervisor, flag)
            clock.to(clock.now() + timedelta(minutes=rng.randint(5, 45)))
            missing = _pick(rng, MISSING_TYPES)
            form = ClosingForm(_pick(rng, OUTCOMES), _pick(rng, CONTACT_TYPES), missing)
            if channel == "sms" and rng.random() < 0.15:
                record = RecordFields("Alex", "2011-05-01", "this number", "Demo record")
                form = ClosingForm(form.outcome, form.contact_type, missing, consent=True, record=record)
                consented.append(address["sms"])
            await helpline.closer.close(volunteer, conversation_id, form)
        clock.to(morning.replace(hour=22, minute=30))
        for session in sessions:
            await helpline.accounts.sign_out(session.session)
    clock.to(START + timedelta(days=DAYS, hours=2))
