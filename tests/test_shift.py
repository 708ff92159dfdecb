"""A real shift through the API: unread counts, presence, holders who leave, and chats whose contact left."""

from __future__ import annotations

from typing import Any

from helpline.core.models import Inbound
from tests.conftest import CapturedLog, Console, Harness

TEXTER = "+447700900321"
OTHER = "+447700900322"


async def mine(console: Console) -> list[dict[str, Any]]:
    """The queue entries the console's user holds, in the order the queue shows them."""
    response = await console.get("/api/queue")
    assert response.status == 200
    return [c for c in (await response.json())["conversations"] if c["status"] == "active"]


async def take(harness: Harness, console: Console, sender: str, body: str) -> str:
    await harness.text(sender, body)
    taken = await console.post("/api/queue/take")
    assert taken.status == 200, await taken.text()
    conversation_id: str = (await taken.json())["id"]
    return conversation_id


async def test_held_conversations_count_unread_until_answered(harness: Harness) -> None:
    """A held conversation's queue entry counts the contact messages since the last reply, and since when."""
    amira = await harness.console("amira")
    conversation = await take(harness, amira, TEXTER, "hello?")
    harness.clock.advance(minutes=1)
    await harness.text(TEXTER, "i took some already. about 10. im scared")
    [entry] = await mine(amira)
    assert entry["unread"] == 2
    assert entry["oldest_unanswered"] == "2026-03-02T09:00:00.000000Z"

    assert (await amira.post(f"/api/conversations/{conversation}/messages", {"body": "I'm here. Are you safe?"})).status
    [entry] = await mine(amira)
    assert entry["unread"] == 0 and entry["oldest_unanswered"] is None

    harness.clock.advance(minutes=1)
    await harness.text(TEXTER, "no")
    [entry] = await mine(amira)
    assert entry["unread"] == 1 and entry["oldest_unanswered"] == "2026-03-02T09:02:00.000000Z"


async def test_my_conversations_are_ordered_by_the_longest_unanswered(harness: Harness) -> None:
    """The conversation whose contact has waited longest for an answer comes first, whatever its age."""
    amira = await harness.console("amira")
    older = await take(harness, amira, TEXTER, "hi")
    await amira.post(f"/api/conversations/{older}/messages", {"body": "Hi, I'm Amira."})
    harness.clock.advance(minutes=1)
    newer = await take(harness, amira, OTHER, "can you help")
    harness.clock.advance(minutes=1)
    await harness.text(TEXTER, "are you still there")
    assert [c["id"] for c in await mine(amira)] == [newer, older]
    await amira.post(f"/api/conversations/{newer}/messages", {"body": "Yes, I can."})
    assert [c["id"] for c in await mine(amira)] == [older, newer]


async def test_a_waiting_entry_carries_no_unread_count(harness: Harness) -> None:
    """Only the conversations the user holds say how much is unread; waiting ones do not."""
    amira = await harness.console("amira")
    await harness.text(TEXTER, "hello")
    [waiting] = await amira.queue()
    assert "unread" not in waiting


async def test_signing_out_hands_back_what_the_holder_held(harness: Harness) -> None:
    """Signing out returns each held conversation to the queue with its priority and notes; supervisors hear."""
    sam = await harness.console("sam", role="supervisor")
    socket = await sam.open_console()
    amira = await harness.console("amira")
    conversation = await take(harness, amira, TEXTER, "i want to kill myself")
    await amira.post(f"/api/conversations/{conversation}/notes", {"body": "Said she is at home."})
    before = await sam.conversation(conversation)
    response = await amira.post("/api/logout")
    assert response.status == 200
    assert (await response.json())["returned"] == 1
    after = await sam.conversation(conversation)
    assert after["status"] == "waiting" and after["assignee"] is None
    assert after["priority"] == before["priority"] > 0
    assert [n["body"] for n in after["notes"]] == ["Said she is at home."]
    events: list[dict[str, Any]] = []
    while not any(e.get("event") == "conversation.returned" for e in events):
        events.append(await socket.receive_json(timeout=5))
    returned = next(e for e in events if e.get("event") == "conversation.returned")
    assert returned["reason"] == "signed_out" and returned["holder"] == "amira"
    ben = await harness.console("ben")
    assert (await (await ben.post("/api/queue/take")).json())["id"] == conversation


async def test_a_holder_without_a_live_console_hands_back_after_away_after(harness: Harness) -> None:
    """A closed console counts for console.away_after_seconds; then what its user holds goes back to the queue."""
    amira = await harness.console("amira")
    socket = await amira.open_console()
    conversation = await take(harness, amira, TEXTER, "hello")
    away = harness.settings.console.away_after_seconds
    harness.clock.advance(seconds=away * 3)
    assert await harness.helpline.shift_worker.run_once() == 0  # the console is open: she is there
    await socket.close()
    harness.clock.advance(seconds=away - 1)
    assert await harness.helpline.shift_worker.run_once() == 0
    harness.clock.advance(seconds=1)
    assert await harness.helpline.shift_worker.run_once() == 1
    assert (await amira.conversation(conversation))["status"] == "waiting"
    rows = harness.rows("SELECT detail FROM audit WHERE action = 'conversation.returned'")
    assert [r[0] for r in rows] == ['{"reason": "away"}']


async def test_a_holder_never_seen_since_start_is_given_away_after_from_the_start(harness: Harness) -> None:
    """After a restart nobody's console has been seen yet: holders are given away_after from the start."""
    amira = await harness.console("amira")
    await take(harness, amira, TEXTER, "hello")
    harness.clock.advance(seconds=harness.settings.console.away_after_seconds - 1)
    assert await harness.helpline.shift_worker.run_once() == 0
    harness.clock.advance(seconds=1)
    assert await harness.helpline.shift_worker.run_once() == 1


async def test_only_people_with_a_live_console_are_offered(harness: Harness) -> None:
    """Transfers and the floor count only present users set to Available; supervisors only once they opt in."""
    amira = await harness.console("amira", live=True)
    ben = await harness.console("ben")  # signed in, but no console open
    sam = await harness.console("sam", role="supervisor", live=True)
    conversation = await take(harness, amira, TEXTER, "hello")

    offered = await (await amira.get("/api/staff/available")).json()
    assert [v["username"] for v in offered["volunteers"]] == ["amira"]
    transfer = f"/api/conversations/{conversation}/transfer"
    refused = await amira.post(transfer, {"to": "ben", "note": ""})
    assert refused.status == 409
    assert "no console open" in (await refused.json())["error"]
    floor = await (await sam.get("/api/floor")).json()
    assert floor["volunteers_available"] == 1
    staff = {s["username"]: s for s in floor["staff"]}
    assert staff["ben"]["present"] is False and staff["ben"]["available"] is False
    assert staff["sam"]["availability"] == "away" and staff["sam"]["available"] is False

    await ben.open_console()
    assert (await sam.post("/api/me/availability", {"availability": "available"})).status == 200
    offered = await (await amira.get("/api/staff/available")).json()
    assert [v["username"] for v in offered["volunteers"]] == ["amira", "ben", "sam"]
    assert (await amira.post(transfer, {"to": "ben", "note": "over to you"})).status == 200


async def left_chat(harness: Harness, token: str) -> str:
    """A web chat contact who wrote and then left with quick exit before anyone answered."""
    chats = harness.helpline.conversations
    received = await chats.receive(Inbound("webchat", token, f"{token}-1", "is anyone there"))
    assert received.conversation_id is not None
    assert await chats.contact_left("webchat", token, "quick_exit") == received.conversation_id
    return received.conversation_id


async def test_a_chat_whose_contact_left_is_not_handed_out_nor_counted(harness: Harness) -> None:
    """A waiting chat whose contact left is shown apart, never taken next, and not counted as waiting."""
    amira = await harness.console("amira")
    sam = await harness.console("sam", role="supervisor")
    gone = await left_chat(harness, "chat-token-one")
    [entry] = await amira.queue()
    assert entry["id"] == gone and entry["status"] == "waiting" and entry["contact_left"] is True
    taken = await amira.post("/api/queue/take")
    assert taken.status == 404
    assert (await (await sam.get("/api/floor")).json())["waiting"] == 0
    metrics = await (await amira.get("/metrics")).text()
    assert "helpline_waiting_conversations 0\n" in metrics

    await harness.text(TEXTER, "hello")
    taken = await amira.post("/api/queue/take")
    assert (await taken.json())["id"] != gone


async def test_a_chat_whose_contact_left_closes_in_one_click(harness: Harness) -> None:
    """Anyone can close a left chat as "left before an answer" without claiming it; nothing else closes so."""
    amira = await harness.console("amira")
    gone = await left_chat(harness, "chat-token-two")
    closed = await amira.post(f"/api/conversations/{gone}/close", {"outcome": "left_before_answer"})
    assert closed.status == 200, await closed.text()
    assert (await amira.queue()) == []
    rows = harness.rows("SELECT status, outcome FROM conversations WHERE id = ?", (gone,))
    assert rows == [("closed", "left_before_answer")]

    await harness.text(TEXTER, "hello")
    [waiting] = await amira.queue()
    refused = await amira.post(f"/api/conversations/{waiting['id']}/close", {"outcome": "left_before_answer"})
    assert refused.status == 400


async def test_a_flag_says_who_was_alerted_and_when_nobody_could_be(harness: Harness) -> None:
    """The flag's answer counts the supervisors online and names no on-call channel when none is set up."""
    assert harness.settings.safeguarding.oncall_channel == ""
    amira = await harness.console("amira")
    conversation = await take(harness, amira, TEXTER, "he hit me again")
    flag = {"category": "abuse", "level": "immediate_danger", "note": ""}
    raised = await (await amira.post(f"/api/conversations/{conversation}/flag", flag)).json()
    assert raised["alerted"]["supervisors_online"] == 0
    assert raised["alerted"]["oncall_channel"] is None
    assert raised["alerted"]["emergency_instruction"] == harness.settings.safeguarding.emergency_instruction

    await harness.console("sam", role="supervisor", live=True)
    raised = await (await amira.post(f"/api/conversations/{conversation}/flag", flag)).json()
    assert raised["alerted"] == {"supervisors_online": 1, "oncall_channel": None, "emergency_instruction": None}


async def test_starting_without_an_oncall_channel_is_warned_of(harness: Harness, captured_log: CapturedLog) -> None:
    """A server with no on-call channel says so when it starts, naming the setting."""
    assert "safeguarding.no_oncall_channel" in captured_log.text
    assert "safeguarding.oncall_channel" in captured_log.text


async def test_the_holder_sees_flags_who_acknowledged_and_the_decision_after_a_transfer_too(harness: Harness) -> None:
    """The volunteer holding a conversation reads its flags with who acknowledged and decided; the last one no more."""
    amira = await harness.console("amira")
    ben = await harness.console("ben", live=True)
    sam = await harness.console("sam", role="supervisor")
    conversation = await take(harness, amira, TEXTER, "my dad hits me")
    flag = {"category": "abuse", "level": "significant_harm", "note": "Hit tonight"}
    escalation = (await (await amira.post(f"/api/conversations/{conversation}/flag", flag)).json())["escalation_id"]
    assert (await sam.post(f"/api/escalations/{escalation}/acknowledge")).status == 200
    decision = {"decision": "advice_given", "note": "Talk through who she can stay with"}
    assert (await sam.post(f"/api/escalations/{escalation}/decide", decision)).status == 200

    path = f"/api/conversations/{conversation}/escalations"
    [seen] = (await (await amira.get(path)).json())["escalations"]
    assert seen["acknowledged_by"] == "sam" and seen["decision"] == "advice_given" and seen["decided_by"] == "sam"
    assert (await ben.get(path)).status == 403

    await amira.post(f"/api/conversations/{conversation}/transfer", {"to": "ben", "note": "See the flag"})
    [seen] = (await (await ben.get(path)).json())["escalations"]
    assert seen["state"] == "decided" and seen["acknowledged_by"] == "sam"
    assert (await amira.get(path)).status == 403


async def test_supervisors_monitoring_cannot_close_move_or_block_until_they_join(harness: Harness) -> None:
    """Monitoring is read-only: close, transfer and block are refused until the supervisor joins."""
    amira = await harness.console("amira")
    sam = await harness.console("sam", role="supervisor")
    conversation = await take(harness, amira, TEXTER, "hello")
    path = f"/api/conversations/{conversation}"
    refused = await sam.post(f"{path}/close", {"outcome": "advice"})
    assert refused.status == 403
    assert "join this conversation" in (await refused.json())["error"]
    assert (await sam.post(f"{path}/transfer", {"to": None, "note": ""})).status == 403
    assert (await sam.post(f"{path}/block", {"reason": "abuse", "days": 1})).status == 403
    assert (await amira.conversation(conversation))["status"] == "active"

    assert (await sam.post(f"{path}/join")).status == 200
    assert (await sam.post(f"{path}/close", {"outcome": "advice"})).status == 200


async def test_the_queue_says_why_a_conversation_is_urgent_without_its_words(harness: Harness) -> None:
    """A risky conversation's queue row carries its top signal's category and lexicon reason, sealed at rest."""
    amira = await harness.console("amira")
    await harness.text(TEXTER, "i want to kill myself")
    await harness.text(OTHER, "hello there")
    rows = {c["priority"]: c for c in await amira.queue()}
    urgent = rows[max(rows)]
    assert urgent["risk"]["category"] == "suicide"
    assert urgent["risk"]["reason"] and "kill myself" not in urgent["risk"]["reason"]
    assert rows[0]["risk"] is None
    assert urgent["risk"]["reason"].encode() not in harness.db.stored_bytes()


async def test_closing_a_high_risk_conversation_without_a_flag_asks_why(harness: Harness) -> None:
    """A high-risk conversation closed with no safeguarding flag needs a short reason, kept as a private note."""
    amira = await harness.console("amira")
    conversation = await take(harness, amira, TEXTER, "i want to kill myself tonight")
    path = f"/api/conversations/{conversation}/close"
    refused = await amira.post(path, {"outcome": "support"})
    assert refused.status == 400
    assert (await refused.json())["code"] == "no_flag_reason_needed"
    assert (await amira.conversation(conversation))["status"] == "active"
    why = "Joking with friends; confirmed safe and at school."
    assert (await amira.post(path, {"outcome": "support", "no_flag_reason": why})).status == 200
    notes = (await amira.conversation(conversation))["notes"]
    assert [n["body"] for n in notes] == [f"Closed without a safeguarding flag: {why}"]

    flagged = await take(harness, amira, OTHER, "i want to kill myself tonight")
    flag = {"category": "suicide", "level": "immediate_danger", "note": ""}
    assert (await amira.post(f"/api/conversations/{flagged}/flag", flag)).status == 201
    assert (await amira.post(f"/api/conversations/{flagged}/close", {"outcome": "referred"})).status == 200


async def test_closed_escalations_stay_findable_for_handover(harness: Harness) -> None:
    """Escalations closed in the last day (or week) are listed with who acknowledged and decided them."""
    amira = await harness.console("amira")
    sam = await harness.console("sam", role="supervisor")
    conversation = await take(harness, amira, TEXTER, "my dad hits me")
    flag = {"category": "abuse", "level": "significant_harm", "note": ""}
    escalation = (await (await amira.post(f"/api/conversations/{conversation}/flag", flag)).json())["escalation_id"]
    await sam.post(f"/api/escalations/{escalation}/acknowledge")
    await sam.post(f"/api/escalations/{escalation}/decide", {"decision": "referred", "note": "Children's services"})
    assert (await sam.post(f"/api/escalations/{escalation}/close")).status == 200
    assert (await (await sam.get("/api/escalations")).json())["escalations"] == []

    [closed] = (await (await sam.get("/api/escalations?closed=1")).json())["escalations"]
    assert closed["id"] == escalation and closed["state"] == "closed"
    assert closed["acknowledged_by"] == "sam" and closed["decided_by"] == "sam" and closed["decision"] == "referred"
    harness.clock.advance(days=2)
    sam = await harness.console()  # the earlier session has ended by now
    assert (await sam.login("sam")).status == 200
    assert (await (await sam.get("/api/escalations?closed=1")).json())["escalations"] == []
    assert len((await (await sam.get("/api/escalations?closed=7")).json())["escalations"]) == 1
    assert (await sam.get("/api/escalations?closed=9999")).status == 400
    volunteer = await harness.console("ben")
    assert (await volunteer.get("/api/escalations?closed=7")).status == 403
