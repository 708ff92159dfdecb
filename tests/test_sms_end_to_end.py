"""The whole SMS path: a texter writes, a volunteer answers, Twilio delivers, the volunteer sees it."""

from __future__ import annotations

from tests.conftest import HELPLINE_NUMBER, Harness

TEXTER = "+447700900123"


async def test_text_claim_reply_deliver(harness: Harness) -> None:
    """A signed webhook becomes a conversation a volunteer claims, reads, answers and sees delivered."""
    response = await harness.text(TEXTER, "Hello, my brother has not come home")
    assert response.status == 200
    assert "<Response></Response>" in await response.text()

    volunteer = await harness.console("amira")
    [waiting] = await volunteer.queue()
    assert waiting["channel"] == "sms" and waiting["status"] == "waiting"

    assert (await volunteer.post(f"/api/conversations/{waiting['id']}/claim")).status == 200
    conversation = await volunteer.conversation(waiting["id"])
    assert conversation["assignee"] == "amira"
    assert [m["body"] for m in conversation["messages"] if m["direction"] == "in"] == [
        "Hello, my brother has not come home"
    ]

    reply = await volunteer.post(
        f"/api/conversations/{waiting['id']}/messages", {"body": "I'm here. When did you last see him?"}
    )
    assert reply.status == 201
    reply_id = (await reply.json())["id"]

    assert await harness.send_outbox() == 2  # the greeting and the reply
    sent = {m["Body"]: m for m in harness.twilio.created}
    assert sent["I'm here. When did you last see him?"]["To"] == TEXTER
    assert sent["I'm here. When did you last see him?"]["From"] == HELPLINE_NUMBER

    sid = next(s for s, m in harness.twilio.messages.items() if m["body"] == "I'm here. When did you last see him?")
    async with __import__("aiohttp").ClientSession() as session:
        assert await harness.twilio.send_status_callback(session, sid, "delivered") == 200

    conversation = await volunteer.conversation(waiting["id"])
    [mine] = [m for m in conversation["messages"] if m["id"] == reply_id]
    assert mine["delivery"] == "delivered"
    assert mine["author"] == "amira"

    # "has not come home" raises the risk band: closing with no safeguarding flag needs a short reason.
    form = {"outcome": "advice", "no_flag_reason": "He is home; his mother called back."}
    closed = await volunteer.post(f"/api/conversations/{waiting['id']}/close", form)
    assert closed.status == 200
    assert harness.rows("SELECT COUNT(*) FROM vault") == [(0,)]
    assert harness.rows("SELECT COUNT(*) FROM routes") == [(0,)]


async def test_next_text_after_close_opens_new_conversation(harness: Harness) -> None:
    """Once a conversation is closed, the same texter's next message starts a new one."""
    await harness.text(TEXTER, "first")
    volunteer = await harness.console("amira")
    [first] = await volunteer.queue()
    await volunteer.post(f"/api/conversations/{first['id']}/claim")
    await volunteer.post(f"/api/conversations/{first['id']}/close", {"outcome": "advice"})

    await harness.text(TEXTER, "second")
    [second] = await volunteer.queue()
    assert second["id"] != first["id"]


async def test_follow_up_text_joins_open_conversation(harness: Harness) -> None:
    """A second text from the same number goes to the open conversation."""
    await harness.text(TEXTER, "one")
    await harness.text(TEXTER, "two")
    volunteer = await harness.console("amira")
    [only] = await volunteer.queue()
    bodies = [m["body"] for m in (await volunteer.conversation(only["id"]))["messages"] if m["direction"] == "in"]
    assert bodies == ["one", "two"]
