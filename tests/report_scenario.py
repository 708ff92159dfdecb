"""Two days of a helpline, for the report tests, the browser test and the screenshots: every figure is known.

The clock starts on Monday 2026-03-02 at 08:00 UTC (Europe/London is on UTC until the end of March); the
helpline is open 09:00-17:00 every day. Seven conversations over SMS, web chat and email, two escalations, two
disclosure requests, and the staff's availability, ending on Wednesday 2026-03-04 at 09:00.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from helpline.app import Helpline
from helpline.core.closing import ClosingForm
from helpline.core.models import Inbound, RecordFields, User
from helpline.settings import Settings

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
FIRST_DAY, LAST_DAY = "2026-03-02", "2026-03-03"
PASSWORD = "correct horse battery staple"
STAFF = {"sup": "supervisor", "sup2": "supervisor", "adm": "admin", "vol1": "volunteer", "vol2": "volunteer"}


def settings_for(settings: Settings) -> Settings:
    """Open 09:00-17:00 every day, so a contact at 08:00 is out of hours."""
    days = ("09:00-17:00",)
    return settings.replace("hours", mon=days, tue=days, wed=days, thu=days, fri=days, sat=days, sun=days)


class Clock:
    """What the scenario needs of the test's fake clock: to be set forward."""

    def __init__(self, clock: Any) -> None:
        self._clock = clock

    def at(self, day: int, hour: int, minute: int = 0) -> None:
        target = datetime(2026, 3, day, hour, minute, tzinfo=UTC)
        delta = target - self._clock.now()
        assert delta.total_seconds() >= 0, "the scenario only moves forward"
        self._clock.advance(seconds=delta.total_seconds())


async def play(helpline: Helpline, fake_clock: Any, password: str = PASSWORD) -> dict[str, str]:
    """Run the two days; returns the conversations' ids by letter (A to G)."""
    clock = Clock(fake_clock)
    clock.at(2, 8)
    users: dict[str, User] = {}
    for name, role in STAFF.items():
        users[name] = await helpline.accounts.add_user(name, role, password)
    sessions = {name: await helpline.accounts.sign_in(name, password) for name in ("vol1", "vol2", "sup", "adm")}
    await helpline.accounts.set_availability(users["sup"], "away")
    await helpline.accounts.set_availability(users["adm"], "offline")
    vol1, vol2, sup, sup2 = users["vol1"], users["vol2"], users["sup"], users["sup2"]
    conversations, closer, routing = helpline.conversations, helpline.closer, helpline.routing
    escalations, disclosures = helpline.escalations, helpline.disclosures
    ids: dict[str, str] = {}

    async def arrive(letter: str, channel: str, address: str) -> str:
        received = await conversations.receive(Inbound(channel, address, f"{letter}-1", "Hello, can someone help?"))
        assert received.conversation_id is not None
        ids[letter] = received.conversation_id
        return received.conversation_id

    def at(day: int, hour: int, minute: int = 0) -> Callable[[], None]:
        return lambda: clock.at(day, hour, minute)

    # Monday. A: an SMS before opening, answered after 10 minutes, closed with consent to a record.
    a = await arrive("A", "sms", "+447700900101")
    at(2, 8, 5)()
    await routing.claim(vol1, a)
    at(2, 8, 10)()
    await conversations.reply(vol1, a, "Hello, I'm here. What's happened?")
    at(2, 8, 30)()
    record = RecordFields("Sam", "2010-01-01", "this number", "Brother missing since Friday")
    await closer.close(vol1, a, ClosingForm("advice", "missing_person", "runaway_or_thrown_out", True, record))
    # B: a web chat whose contact used quick exit before anyone answered.
    at(2, 9)()
    b = await arrive("B", "webchat", "chat-token-b")
    at(2, 9, 2)()
    await conversations.contact_left("webchat", "chat-token-b", "quick_exit")
    at(2, 9, 5)()
    await routing.claim(vol2, b)
    await closer.close(vol2, b, ClosingForm("no_reply"))
    # C: an email, answered in 3 minutes, escalated, two disclosure requests (one approved, one refused).
    at(2, 10)()
    c = await arrive("C", "email", "parent@example.org")
    at(2, 10, 1)()
    await routing.claim(vol2, c)
    at(2, 10, 3)()
    await conversations.reply(vol2, c, "Thank you for writing to us.")
    at(2, 10, 5)()
    first = await escalations.raise_flag(vol2, c, "abuse", "significant_harm", "Mentions being hit at home")
    at(2, 10, 7)()
    await escalations.acknowledge(sup, first)
    at(2, 10, 10)()
    approved = await disclosures.request(sup, c, "Police need the address to visit the child tonight")
    at(2, 10, 12)()
    await disclosures.decide(sup2, approved.id, approve=True)
    at(2, 10, 14)()
    refused = await disclosures.request(sup, c, "Asking again for the social worker on duty")
    at(2, 10, 15)()
    await disclosures.decide(sup2, refused.id, approve=False)
    at(2, 10, 20)()
    await escalations.decide(sup, first, "referred", "Referred to children's services")
    at(2, 10, 33)()
    await closer.close(vol2, c, ClosingForm("support", "family_or_friend"))
    at(2, 12)()
    await helpline.accounts.set_availability(vol2, "away")
    # D: an SMS nobody answered, closed as silent.
    at(2, 14)()
    d = await arrive("D", "sms", "+447700900104")
    at(2, 14, 10)()
    await routing.claim(vol1, d)
    at(2, 14, 30)()
    await closer.close(vol1, d, ClosingForm("silent_or_test"))
    # Tuesday. E: answered after 20 minutes and still open, with an unacknowledged escalation.
    at(3, 11)()
    e = await arrive("E", "sms", "+447700900105")
    at(3, 11, 19)()
    await routing.claim(vol1, e)
    at(3, 11, 20)()
    await conversations.reply(vol1, e, "I'm here. Are you safe right now?")
    at(3, 11, 25)()
    await escalations.raise_flag(vol1, e, "suicide", "immediate_danger", "Says they have pills")
    # F waits; G is A's contact again, recognised through the consented record.
    at(3, 12)()
    await arrive("F", "sms", "+447700900106")
    at(3, 13)()
    await arrive("G", "sms", "+447700900101")
    at(3, 18)()
    await helpline.accounts.sign_out(sessions["vol1"].session)
    at(4, 9)()
    return ids


# Every figure of the report for FIRST_DAY..LAST_DAY, as a supervisor sees it (exact counts), made at the end.
EXPECTED: dict[str, Any] = {
    "from": FIRST_DAY,
    "to": LAST_DAY,
    "timezone": "Europe/London",
    "made_at": "2026-03-04T09:00:00Z",
    "small_numbers_below": 0,
    "conversations": {
        "total": 7,
        "by_channel": {"sms": 5, "webchat": 1, "email": 1},
        "new": 6,
        "returning": 1,
        "by_contact_type": {
            "missing_person": 1,
            "family_or_friend": 1,
            "professional": 0,
            "other": 0,
            "not_recorded": 5,
        },
        "by_missing_type": {
            "runaway_or_thrown_out": 1,
            "parental_abduction": 0,
            "criminal_abduction": 0,
            "missing_in_migration": 0,
            "lost_or_injured": 0,
            "adult_missing": 0,
            "not_recorded": 6,
        },
        "by_outcome": {
            "advice": 1,
            "support": 1,
            "referred": 0,
            "no_reply": 1,
            "silent_or_test": 1,
            "abusive": 0,
            "open": 3,
        },
    },
    "service": {
        "answered": 3,
        "left_before_answer": 1,
        "closed_unanswered": 1,
        "waiting": 2,
        "first_answer_seconds": {"median": 600, "p90": 1200, "slowest": 1200},
        "first_answer_waits": {
            "under_1_min": 0,
            "1_to_5_min": 1,
            "5_to_15_min": 1,
            "15_to_60_min": 1,
            "60_min_and_over": 0,
        },
        "handling_seconds": {"median": 1500, "p90": 1800, "slowest": 1800},
        "by_day": {"2026-03-02": 4, "2026-03-03": 3},
        "by_hour": {
            **{f"{h:02d}": 0 for h in range(24)},
            "08": 1,
            "09": 1,
            "10": 1,
            "11": 1,
            "12": 1,
            "13": 1,
            "14": 1,
        },
        "by_weekday": {"mon": 4, "tue": 3, "wed": 0, "thu": 0, "fri": 0, "sat": 0, "sun": 0},
        "out_of_hours": 1,
    },
    "safeguarding": {
        "escalations": 2,
        "by_category": {
            "suicide": 1,
            "self_harm": 0,
            "immediate_danger": 0,
            "abuse": 1,
            "exploitation": 0,
            "trafficking": 0,
            "missing_child": 0,
            "other": 0,
        },
        "by_level": {"concern": 0, "significant_harm": 1, "immediate_danger": 1},
        "by_decision": {
            "advice_given": 0,
            "referred": 1,
            "emergency_services": 0,
            "no_further_action": 0,
            "undecided": 1,
        },
        "acknowledgement_seconds": {"median": 120, "p90": 120, "slowest": 120},
        "unacknowledged": 1,
        "disclosures": {"requested": 2, "approved": 1, "refused": 1, "pending": 0},
    },
    "volunteers": {
        # vol1 was available from Monday 08:00 to Tuesday 18:00, counted as one session's longest (12 hours).
        "hours_available": 16.0,
        "conversations_handled": 3,
        # sup starts Away (supervisors choose Available) and adm holds the admin role alone: neither was ever
        # available, so neither is listed.
        "people": [
            {"username": "vol1", "hours_available": 12.0, "conversations_handled": 2},
            {"username": "vol2", "hours_available": 4.0, "conversations_handled": 1},
        ],
    },
}
