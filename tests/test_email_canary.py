"""The promise, proven for email: no address, client IP, header or text is anywhere at rest or in logs.

A contact emails the helpline through a chain of servers (a ``Received:`` header carries a canary IP, and
the message carries the headers mail clients add: a user agent, an originating IP, a Message-ID naming
their host); a volunteer claims, reads and replies; the relay takes the reply; the conversation closes.
While it is open, and again after it closes and the server stops, every byte of the data directory (the
key file excepted) and every log line is searched for all of it.
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import AsyncIterator

import pytest

from helpline.settings import Settings
from tests.conftest import CapturedLog, Harness
from tests.direct_db import at_rest
from tests.fakes.email_contact import CONTACT_HOST, email_settings, letter, mail
from tests.fakes.smtp_sink import SmtpSink

ADDRESS = "Casey.Canary+help@Canary-Mail.example"
CANARY_IP = "203.0.113.77"
CLIENT_IP_HEADER = "198.51.100.23"
SUBJECT = "CANARY-SUBJECT about my sister"
INBOUND_TEXT = "CANARY-INBOUND my sister Jo left at 3am from the station"
REPLY_TEXT = "CANARY-REPLY we can help you look for Jo"
CONTACT_MESSAGE_ID = "<canary-7f3a9c@casey-canary-laptop.example>"


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as running:
        yield running


@pytest.fixture
def settings(settings: Settings, sink: SmtpSink) -> Settings:
    return email_settings(settings, sink)


def encoded_forms(text: str) -> list[str]:
    """The text as sent, lower-cased, URL-encoded, base64, and a 16-character piece from its middle."""
    middle = len(text) // 2
    return [
        text,
        text.lower(),
        urllib.parse.quote(text),
        urllib.parse.quote_plus(text),
        base64.b64encode(text.encode()).decode(),
        text[middle - 8 : middle + 8],
    ]


def assert_absent(files: dict[str, bytes], needles: list[str], label: str) -> None:
    for name, content in files.items():
        lowered = content.lower()
        for needle in needles:
            assert needle.lower().encode() not in lowered, f"{needle!r} found in {name} ({label})"
            assert needle.encode("utf-16-le") not in content, f"{needle!r} (UTF-16) found in {name} ({label})"


async def test_no_address_ip_header_or_text_at_rest_or_in_logs(
    harness: Harness, sink: SmtpSink, captured_log: CapturedLog
) -> None:
    """After the whole email path, none of the contact's identifiers or words appear in any file or log line."""
    message = letter(f"Casey Canary <{ADDRESS}>", INBOUND_TEXT, subject=SUBJECT, message_id=CONTACT_MESSAGE_ID)
    message["Received"] = f"from canary-isp.example ([{CANARY_IP}]) by mx.helpline.test with ESMTPS id 4Zq9"
    message["X-Originating-IP"] = f"[{CLIENT_IP_HEADER}]"
    message["User-Agent"] = "CanaryMail/9.1 (X11; Linux x86_64)"
    message.add_alternative(f"<html><body><p>{INBOUND_TEXT}</p></body></html>", subtype="html")
    assert (await mail(harness, message, sender=ADDRESS)).code == 250

    volunteer = await harness.console("amira")
    [waiting] = await volunteer.queue()
    await volunteer.post(f"/api/conversations/{waiting['id']}/claim")
    shown = await volunteer.conversation(waiting["id"])
    assert f"Subject: {SUBJECT}\n\n{INBOUND_TEXT}" in [m["body"] for m in shown["messages"]]
    for identifier in (ADDRESS, ADDRESS.lower(), CANARY_IP, CLIENT_IP_HEADER, CONTACT_MESSAGE_ID, "CanaryMail"):
        assert identifier not in str(shown)
    await volunteer.post(f"/api/conversations/{waiting['id']}/messages", {"body": REPLY_TEXT})
    assert await harness.send_outbox() == 2
    assert {m.rcpt_tos[0] for m in sink.messages} == {ADDRESS.lower()}
    our_message_ids = [str(m.message["Message-ID"]) for m in sink.messages]
    assert all(m.message["In-Reply-To"] == CONTACT_MESSAGE_ID for m in sink.messages)

    needles = [
        *encoded_forms(ADDRESS),
        "casey.canary",
        "canary-mail.example",
        CANARY_IP,
        CLIENT_IP_HEADER,
        "canary-isp.example",
        CONTACT_HOST,
        "CanaryMail/9.1",
        CONTACT_MESSAGE_ID,
        "casey-canary-laptop",
        *encoded_forms(SUBJECT),
        *encoded_forms(INBOUND_TEXT),
        *encoded_forms(REPLY_TEXT),
        *our_message_ids,
        *(m.strip("<>").split("@")[0] for m in our_message_ids),
    ]

    open_files = at_rest(harness.data_dir, harness.db)  # while open: the address and context sit sealed in the vault
    assert ({"pg_dump"} if harness.db.postgres else {"helpline.db", "helpline.db-wal"}) <= set(open_files)
    assert_absent(open_files, needles, "open")

    closed = await volunteer.post(f"/api/conversations/{waiting['id']}/close", {"outcome": "support"})
    assert closed.status == 200
    assert_absent(at_rest(harness.data_dir, harness.db), needles, "closed")
    await harness.close()
    assert_absent(at_rest(harness.data_dir, harness.db), needles, "stopped")

    assert captured_log.lines, "the run logged nothing, so the log check would prove nothing"
    assert any('"email.received"' in line for line in captured_log.lines)
    for line in captured_log.lines:
        for needle in needles:
            assert needle.lower() not in line.lower(), f"{needle!r} found in a log line"
