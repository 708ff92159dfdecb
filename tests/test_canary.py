"""The promise, proven: after the whole SMS path, no identifier or message text is anywhere at rest or in logs.

A texter's number goes in; a volunteer claims, reads, replies; Twilio delivers and calls back; the
conversation closes. Then every byte of the data directory (database, WAL, shared memory — the key file
excepted) and every log line is searched for the number in every common format and for the texts.
"""

from __future__ import annotations

import base64
import urllib.parse

import aiohttp

from tests.conftest import CapturedLog, Harness
from tests.direct_db import at_rest

NUMBER = "+447700900987"
INBOUND_TEXT = "CANARY-INBOUND my sister Jo left at 3am"
# The second message is routed at once, in its webhook's own transaction (the first went through the intake table).
SECOND_TEXT = "CANARY-SECOND she took the night bus to Leeds"
REPLY_TEXT = "CANARY-REPLY we can help you look for Jo"


def number_forms(number: str) -> list[str]:
    """The ways a phone number can be written: E.164, without '+', national, URL-encoded, base64."""
    digits = number.lstrip("+")
    national = "0" + digits[2:]
    return [
        number,
        digits,
        national,
        national[:5] + " " + national[5:],
        urllib.parse.quote(number),
        urllib.parse.quote_plus(number),
        base64.b64encode(number.encode()).decode(),
        digits[-9:],
    ]


def text_forms(text: str) -> list[str]:
    """The text as sent, form- and URL-encoded, base64, and a 16-character piece from its middle."""
    middle = len(text) // 2
    return [
        text,
        urllib.parse.quote_plus(text),
        urllib.parse.quote(text),
        base64.b64encode(text.encode()).decode(),
        text[middle - 8 : middle + 8],
    ]


async def test_no_number_or_text_at_rest_or_in_logs(harness: Harness, captured_log: CapturedLog) -> None:
    """After the whole path, the number (any format) and both texts appear in no file and no log line."""
    provider_sid = "SM" + "c0ffee" * 5 + "00"
    second_sid = "SM" + "beef" * 8
    assert (await harness.text(NUMBER, INBOUND_TEXT, sid=provider_sid)).status == 200
    assert (await harness.text(NUMBER, SECOND_TEXT, sid=second_sid)).status == 200
    assert (harness.helpline.intake.routed, harness.helpline.intake.routed_at_once) == (2, 1)
    volunteer = await harness.console("amira")
    [waiting] = await volunteer.queue()
    await volunteer.post(f"/api/conversations/{waiting['id']}/claim")
    shown = await volunteer.conversation(waiting["id"])
    assert [m["body"] for m in shown["messages"] if m["direction"] == "in"] == [INBOUND_TEXT, SECOND_TEXT]
    assert NUMBER not in str(shown)
    await volunteer.post(f"/api/conversations/{waiting['id']}/messages", {"body": REPLY_TEXT})
    await harness.send_outbox()
    async with aiohttp.ClientSession() as session:
        for sid in list(harness.twilio.messages):
            if harness.twilio.messages[sid]["direction"] == "outbound-api":
                assert await harness.twilio.send_status_callback(session, sid, "delivered") == 200
    await volunteer.post(f"/api/conversations/{waiting['id']}/close", {"outcome": "support"})
    outbound_sids = [s for s, m in harness.twilio.messages.items() if m["direction"] == "outbound-api"]
    assert [m["To"] for m in harness.twilio.created] == [NUMBER, NUMBER]
    needles = number_forms(NUMBER) + text_forms(INBOUND_TEXT) + text_forms(SECOND_TEXT) + text_forms(REPLY_TEXT)
    needles += [provider_sid, second_sid, *outbound_sids]

    running = at_rest(harness.data_dir, harness.db)  # while serving: the WAL and shared memory hold recent writes
    stored = {"pg_dump"} if harness.db.postgres else {"helpline.db", "helpline.db-wal", "helpline.db-shm"}
    assert {*stored, "helpline.toml"} <= set(running)
    await harness.close()
    stopped = at_rest(harness.data_dir, harness.db)  # after a clean stop: the WAL folded back into the database
    for label, files in (("running", running), ("stopped", stopped)):
        for name, content in files.items():
            for needle in needles:
                assert needle.encode() not in content, f"{needle!r} found in {name} ({label})"
                assert needle.encode("utf-16-le") not in content, f"{needle!r} (UTF-16) found in {name} ({label})"
    assert captured_log.lines, "the run logged nothing, so the log check would prove nothing"
    for line in captured_log.lines:
        for needle in needles:
            assert needle not in line, f"{needle!r} found in a log line"


async def test_a_message_waiting_in_the_intake_is_sealed_too(harness: Harness, captured_log: CapturedLog) -> None:
    """Accepted but not yet routed (a stop between the two): the number and text are nowhere readable."""
    provider_sid = "SM" + "d0d0" * 7 + "0000"
    params = harness.twilio.inbound_sms_params(NUMBER, "+447700900001", INBOUND_TEXT)
    params["MessageSid"] = params["SmsSid"] = params["SmsMessageSid"] = provider_sid
    assert (await harness.post_webhook("/webhooks/twilio/sms", params, route=False)).status == 200
    assert harness.rows("SELECT COUNT(*) FROM intake") == [(1,)]
    needles = [*number_forms(NUMBER), *text_forms(INBOUND_TEXT), provider_sid]
    running = at_rest(harness.data_dir, harness.db)
    await harness.close()
    for label, files in (("running", running), ("stopped", at_rest(harness.data_dir, harness.db))):
        for name, content in files.items():
            for needle in needles:
                assert needle.encode() not in content, f"{needle!r} found in {name} ({label})"
                assert needle.encode("utf-16-le") not in content, f"{needle!r} (UTF-16) found in {name} ({label})"
    for line in captured_log.lines:
        for needle in needles:
            assert needle not in line, f"{needle!r} found in a log line"
