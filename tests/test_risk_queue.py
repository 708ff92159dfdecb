"""Risk triage end to end: texts in over the SMS webhook, the queue ordered by band, the signals in the console."""

from __future__ import annotations

from tests.conftest import CapturedLog, Harness

CALM = "+447700900101"
AT_RISK = "+447700900102"


def text_values(harness: Harness) -> str:
    """Every text value in every table of the database, joined: what a copy of the file would show."""
    values = [
        value
        for table in harness.db.tables()
        for row in harness.rows(f"SELECT * FROM {table}")  # noqa: S608 - table names come from the catalogue
        for value in row
        if isinstance(value, str)
    ]
    return "\n".join(values)


async def test_a_later_high_risk_conversation_is_offered_before_an_earlier_ordinary_one(harness: Harness) -> None:
    """A texter who writes later but says they have taken all their pills is first in the queue, at band 3."""
    await harness.text(CALM, "Hi, I need some advice about my son's school")
    harness.clock.advance(minutes=10)
    await harness.text(AT_RISK, "i've taken all my pills")

    volunteer = await harness.console("amira")
    queue = await volunteer.queue()
    assert [c["priority"] for c in queue] == [3, 0]
    at_risk, calm = queue
    assert at_risk["waiting_since"] > calm["waiting_since"]


async def test_a_calm_message_never_lowers_a_conversation_s_band(harness: Harness) -> None:
    """The band is the highest seen: "ok thanks" after a suicidal message leaves the conversation at band 2."""
    await harness.text(AT_RISK, "I want to kill myself")
    await harness.text(AT_RISK, "ok thanks, I'm fine now")

    volunteer = await harness.console("amira")
    [conversation] = await volunteer.queue()
    assert conversation["priority"] == 2


async def test_a_risky_later_message_raises_an_open_conversation(harness: Harness) -> None:
    """A conversation that began calmly moves up when a later message carries a signal."""
    await harness.text(CALM, "hello")
    await harness.text(AT_RISK, "can I talk to someone")
    await harness.text(CALM, "he's outside my door with a knife")

    volunteer = await harness.console("amira")
    queue = await volunteer.queue()
    assert [c["priority"] for c in queue] == [3, 0]
    conversation = await volunteer.conversation(queue[0]["id"])
    assert [m["body"] for m in conversation["messages"] if m["direction"] == "in"][-1].endswith("with a knife")


async def test_the_console_sees_which_words_matched_and_why(harness: Harness) -> None:
    """Each inbound message carries its signals with the span of the matched words; outbound messages carry none."""
    body = "😢 honestly I just want to end it all"
    await harness.text(AT_RISK, body)

    volunteer = await harness.console("amira")
    [waiting] = await volunteer.queue()
    messages = (await volunteer.conversation(waiting["id"]))["messages"]
    [inbound] = [m for m in messages if m["direction"] == "in"]
    [signal] = inbound["risk"]
    assert signal["category"] == "suicide" and signal["weight"] == 2 and signal["reason"]
    # Offsets count UTF-16 code units, as the console's JavaScript slices strings.
    units = inbound["body"].encode("utf-16-le")
    assert units[2 * signal["start"] : 2 * signal["end"]].decode("utf-16-le") == "want to end it all"
    assert all(m["risk"] == [] for m in messages if m["direction"] != "in")


async def test_a_calm_message_has_an_empty_risk_list(harness: Harness) -> None:
    """No signal is an empty list, not a missing key."""
    await harness.text(CALM, "Hello, can someone help?")

    volunteer = await harness.console("amira")
    [waiting] = await volunteer.queue()
    messages = (await volunteer.conversation(waiting["id"]))["messages"]
    assert [m["risk"] for m in messages if m["direction"] == "in"] == [[]]


async def test_nothing_about_a_match_is_stored_or_logged(harness: Harness, captured_log: CapturedLog) -> None:
    """Only the band is kept: no category, reason or matched words in the database or the logs."""
    body = "took all my pills"
    await harness.text(AT_RISK, body)
    volunteer = await harness.console("amira")
    [waiting] = await volunteer.queue()
    signals = [s for m in (await volunteer.conversation(waiting["id"]))["messages"] for s in m["risk"]]
    assert signals

    stored = text_values(harness)
    logged = captured_log.text
    for secret in {body, *(s["reason"] for s in signals), *(s["category"] for s in signals)}:
        assert secret not in stored
        assert secret not in logged


async def test_signals_never_act_on_their_own(harness: Harness) -> None:
    """A message in immediate danger gets the same automatic reply as any other, and opens no escalation."""
    await harness.text(CALM, "Hello")
    await harness.text(AT_RISK, "he's got a gun and he's here")

    outbox = harness.rows("SELECT conversation_id, COUNT(*) FROM outbox GROUP BY conversation_id")
    assert sorted(count for _, count in outbox) == [1, 1]  # the greeting, once each
    assert harness.rows("SELECT COUNT(*) FROM escalations") == [(0,)]
