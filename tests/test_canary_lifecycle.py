"""The promise over time, proven on every channel: nothing identifying is ever at rest, and nothing is left after.

A canary contact on each channel (SMS with a picture, email through a chain of servers with a mail client's
headers, web chat behind a proxy with a browser's user agent) writes in, is answered, writes again, is flagged
for safeguarding, whispered about, has its address disclosed to a supervisor, is transferred with a handover
note, answered again, and closed; Twilio reports delivery and is asked to delete its copies. Then:

- every byte of the data directory (database, WAL, shared memory; the key file excepted) and every log line is
  searched for every identifier in every usual encoding (plain, lower case, URL-encoded, digits only, national
  format, base64, UTF-16): never found — while open, after closing, after the purge, after stopping;
- the words written are never found in plaintext either;
- after the retention period and a purge, every ciphertext left in the database is tried with every key the
  server holds (each master key version, the secret box keys, every data key still wrapped): none opens, and the
  ciphertexts the conversations had are no longer anywhere in the files.

Adding a channel is one fixture: a ``CanaryContact`` for it, listed in ``contacts``.
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiohttp
import pytest

from helpline.crypto import envelope
from helpline.crypto.keyring import Keyring
from helpline.errors import CryptoError
from helpline.settings import Settings
from tests.conftest import HELPLINE_NUMBER, CapturedLog, Console, Harness
from tests.direct_db import DirectDb, at_rest
from tests.fakes.email_contact import CONTACT_HOST, email_settings, letter, mail
from tests.fakes.smtp_sink import SmtpSink
from tests.test_webchat_socket import ChatClient

NUMBER = "+447700900913"
EMAIL = "Robin.Canary+help@Canary-Post.example"
MAIL_IP = "203.0.113.91"
MAIL_CLIENT_IP = "198.51.100.54"
MAIL_UA = "CanaryMail/2.2 (X11; Linux x86_64)"
MAIL_MESSAGE_ID = "<canary-9d1e@robin-canary-laptop.example>"
CHAT_IP = "198.51.100.77"
CHAT_UA = "CanaryBrowser/7.3 (CanaryOS 12; rv:7.3)"


@dataclass
class Canaries:
    """What a contact exposes: identifiers (never stored in any form) and words (never stored in plaintext)."""

    identifiers: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


class CanaryContact(Protocol):
    channel: str
    canaries: Canaries

    async def write(self, text: str) -> None:
        """Send the helpline a message, as this channel's contact does."""

    async def receive_replies(self) -> None:
        """Whatever happens on the contact's side once replies have left the outbox."""

    async def close(self) -> None: ...


class SmsContact:
    channel = "sms"

    def __init__(self, harness: Harness) -> None:
        self._harness = harness
        self.canaries = Canaries([NUMBER])

    async def write(self, text: str) -> None:
        media = ("image/jpeg",) if not self.canaries.texts else ()
        params = self._harness.twilio.inbound_sms_params(NUMBER, HELPLINE_NUMBER, text, media)
        self.canaries.identifiers += [params["MessageSid"], *self._harness.twilio.media[params["MessageSid"]]]
        self.canaries.texts.append(text)
        assert (await self._harness.post_webhook("/webhooks/twilio/sms", params)).status == 200

    async def receive_replies(self) -> None:
        twilio = self._harness.twilio
        async with aiohttp.ClientSession() as session:
            for sid, message in list(twilio.messages.items()):
                if message["direction"] == "outbound-api" and message["status"] != "delivered":
                    self.canaries.identifiers.append(sid)
                    assert await twilio.send_status_callback(session, sid, "delivered") == 200

    async def close(self) -> None:
        return None


class EmailContact:
    channel = "email"

    def __init__(self, harness: Harness, sink: SmtpSink) -> None:
        self._harness = harness
        self._sink = sink
        self.canaries = Canaries([EMAIL, MAIL_IP, MAIL_CLIENT_IP, MAIL_UA, MAIL_MESSAGE_ID, CONTACT_HOST])
        self._ours: list[str] = []

    async def write(self, text: str) -> None:
        first = not self.canaries.texts
        message = letter(
            f"Robin Canary <{EMAIL}>",
            text,
            subject="CANARY-SUBJECT help please",
            message_id=MAIL_MESSAGE_ID if first else None,
            in_reply_to=None if first else self._ours[-1],
        )
        message["Received"] = f"from canary-isp.example ([{MAIL_IP}]) by mx.helpline.test with ESMTPS id 7Qx2"
        message["X-Originating-IP"] = f"[{MAIL_CLIENT_IP}]"
        message["User-Agent"] = MAIL_UA
        self.canaries.identifiers.append(str(message["Message-ID"]))
        self.canaries.texts += [text, "CANARY-SUBJECT help please"]
        assert (await mail(self._harness, message, sender=EMAIL)).code == 250

    async def receive_replies(self) -> None:
        for delivered in self._sink.messages:
            ours = str(delivered.message["Message-ID"])
            if ours not in self._ours:
                self._ours.append(ours)
                self.canaries.identifiers.append(ours)

    async def close(self) -> None:
        return None


class WebchatContact:
    channel = "webchat"

    def __init__(self, harness: Harness) -> None:
        self._harness = harness
        self._chat: _ProxiedChat | None = None
        self.canaries = Canaries([CHAT_IP, CHAT_UA])

    async def write(self, text: str) -> None:
        if self._chat is None:
            self._chat = _ProxiedChat(self._harness)
            await self._chat.connect()
            assert self._chat.token
            self.canaries.identifiers.append(self._chat.token)
        self.canaries.texts.append(text)
        assert (await self._chat.say(text))["type"] == "ack"

    async def receive_replies(self) -> None:
        return None  # the outbox hands replies to the open socket

    async def close(self) -> None:
        if self._chat is not None:
            await self._chat.aclose()


class _ProxiedChat(ChatClient):
    """A browser behind the helpline's reverse proxy, which records the client's address in X-Forwarded-For."""

    async def open(self) -> aiohttp.ClientWebSocketResponse:
        origin = self._harness.settings.server.public_url
        headers = {"Origin": origin, "User-Agent": CHAT_UA, "X-Forwarded-For": CHAT_IP}
        self.ws = await self.session.ws_connect(self.url, headers=headers)
        return self.ws


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as running:
        yield running


@pytest.fixture
def settings(settings: Settings, sink: SmtpSink) -> Settings:
    settings = email_settings(settings, sink)
    settings = settings.replace("webchat", trusted_proxy_hops=1)
    return settings.replace("retention", transcript_days=30, safeguarding_days=7)


@pytest.fixture
def sms_contact(harness: Harness) -> CanaryContact:
    return SmsContact(harness)


@pytest.fixture
def email_contact(harness: Harness, sink: SmtpSink) -> CanaryContact:
    return EmailContact(harness, sink)


@pytest.fixture
def webchat_contact(harness: Harness) -> CanaryContact:
    return WebchatContact(harness)


@pytest.fixture
def contacts(
    sms_contact: CanaryContact, email_contact: CanaryContact, webchat_contact: CanaryContact
) -> list[CanaryContact]:
    return [sms_contact, email_contact, webchat_contact]


def identifier_forms(identifier: str) -> list[str]:
    """Plain, lower case, URL-encoded, base64; for a phone number also digits only and national formats."""
    forms = [
        identifier,
        identifier.lower(),
        urllib.parse.quote(identifier),
        urllib.parse.quote_plus(identifier),
        base64.b64encode(identifier.encode()).decode(),
    ]
    if identifier.startswith("+") and identifier[1:].isdigit():
        digits = identifier[1:]
        national = "0" + digits[2:]
        forms += [digits, national, f"{national[:5]} {national[5:]}", digits[-9:]]
    if "@" in identifier and not identifier.startswith("<"):
        local, domain = identifier.split("@")
        forms += [local, domain]
    return forms


def text_forms(text: str) -> list[str]:
    """The words as written, URL-encoded, base64, and a 16-character piece from the middle."""
    middle = len(text) // 2
    return [
        text,
        urllib.parse.quote(text),
        urllib.parse.quote_plus(text),
        base64.b64encode(text.encode()).decode(),
        text[middle - 8 : middle + 8],
    ]


def assert_nowhere(data_dir: Path, database: DirectDb, needles: list[str], moment: str) -> None:
    for name, content in at_rest(data_dir, database).items():
        lowered = content.lower()
        for needle in needles:
            assert needle.lower().encode() not in lowered, f"{needle!r} found in {name} ({moment})"
            assert needle.encode("utf-16-le") not in content, f"{needle!r} (UTF-16) found in {name} ({moment})"


def openable(database: DirectDb, keyring: Keyring) -> list[tuple[str, str, str]]:
    """Every ciphertext in the database that opens with any key the server holds: (table, column, plaintext).

    Tried with every master key version (wrapped keys), every secret box key, and every data key that still
    unwraps, under every context the row could name (its table, any of its text values, the column).
    """
    keys = [keyring.kek(v) for v in keyring.versions] + [keyring.subkey("secretbox", v) for v in keyring.versions]
    for table in ("conversations", "records"):
        for row_id, wrapped in database.rows(f"SELECT id, data_key FROM {table} WHERE data_key IS NOT NULL"):  # noqa: S608 - fixed names
            for kek in keys:
                try:
                    keys.append(envelope.open_(kek, bytes(wrapped), envelope.context(table, row_id, "data_key")))
                except CryptoError:
                    continue
    opened = []
    for table in database.tables():
        columns, rows = database.table(table)
        for row in rows:
            texts = [value for value in row if isinstance(value, str)]
            for column, value in zip(columns, row, strict=True):
                if not isinstance(value, bytes) or len(value) < 17 + 16 or value[0] != envelope.FORMAT:
                    continue
                for key in keys:
                    for text in texts:
                        try:
                            plain = envelope.open_(key, value, envelope.context(table, text, column))
                        except CryptoError:
                            continue
                        opened.append((table, column, plain.decode("utf-8", "replace")))
    return opened


def ciphertexts_of(database: DirectDb, conversation_ids: list[str]) -> list[bytes]:
    """Every sealed value that belongs to these conversations, as stored now."""
    marks = ", ".join("?" * len(conversation_ids))
    found: list[bytes] = []
    for table, column in (
        ("messages", "body"),
        ("messages", "provider_id"),
        ("notes", "body"),
        ("whispers", "body"),
        ("vault", "address"),
        ("vault", "reply_context"),
        ("escalations", "note"),
        ("escalations", "decision_note"),
        ("conversations", "data_key"),
    ):
        key_column = "id" if table == "conversations" else "conversation_id"
        query = f"SELECT {column} FROM {table} WHERE {key_column} IN ({marks}) AND {column} IS NOT NULL"  # noqa: S608 - fixed names
        found += [bytes(value) for (value,) in database.rows(query, tuple(conversation_ids)) if value]
    return found


async def walk(harness: Harness, contact: CanaryContact, staff: dict[str, Console]) -> str:
    """One contact through every path; returns the conversation's id."""
    tag = contact.channel.upper()
    before = set(await harness.helpline.conversations.waiting_order())
    await contact.write(f"CANARY-{tag}-IN-1 my sister Jo left at 3am from the station")
    [conversation_id] = set(await harness.helpline.conversations.waiting_order()) - before
    conversation = f"/api/conversations/{conversation_id}"
    amira, ben, sam, sue = staff["amira"], staff["ben"], staff["sam"], staff["sue"]

    assert (await amira.post(f"{conversation}/claim")).status == 200
    shown = await amira.conversation(conversation_id)
    assert any(f"CANARY-{tag}-IN-1" in m["body"] for m in shown["messages"])
    await reply(harness, contact, amira, conversation, f"CANARY-{tag}-REPLY-1 we can help you look for Jo")
    await contact.write(f"CANARY-{tag}-IN-2 she has a red coat and no phone")

    flag = {"category": "missing_child", "level": "significant_harm", "note": f"CANARY-{tag}-FLAG child at risk"}
    raised = await amira.post(f"{conversation}/flag", flag)
    assert raised.status == 201, await raised.text()
    escalation = (await raised.json())["escalation_id"]
    whisper = await sam.post(f"{conversation}/whisper", {"body": f"CANARY-{tag}-WHISPER ask about the station"})
    assert whisper.status == 201, await whisper.text()
    reason = "Police are searching now and asked us to pass the contact's address for the search."
    requested = await sam.post(f"{conversation}/disclosures", {"reason": reason})
    assert requested.status == 201, await requested.text()
    disclosure = (await requested.json())["id"]
    assert (await sue.post(f"/api/disclosures/{disclosure}/approve")).status == 200
    revealed = await sam.post(f"/api/disclosures/{disclosure}/reveal")
    assert revealed.status == 200, await revealed.text()
    assert (await revealed.json())["channel"] == contact.channel

    note = {"to": "ben", "note": f"CANARY-{tag}-HANDOVER she trusts her aunt"}
    assert (await amira.post(f"{conversation}/transfer", note)).status == 200
    await reply(harness, contact, ben, conversation, f"CANARY-{tag}-REPLY-2 can you call your aunt now")
    assert (await sam.post(f"/api/escalations/{escalation}/acknowledge")).status == 200
    decision = {"decision": "emergency_services", "note": f"CANARY-{tag}-DECISION police informed"}
    assert (await sam.post(f"/api/escalations/{escalation}/decide", decision)).status == 200
    assert (await sam.post(f"/api/escalations/{escalation}/close")).status == 200
    closed = await ben.post(f"{conversation}/close", {"outcome": "referred", "contact_type": "family_or_friend"})
    assert closed.status == 200, await closed.text()
    contact.canaries.texts += [
        f"CANARY-{tag}-REPLY-1 we can help you look for Jo",
        f"CANARY-{tag}-REPLY-2 can you call your aunt now",
        flag["note"],
        f"CANARY-{tag}-WHISPER ask about the station",
        note["note"],
        decision["note"],
    ]
    return conversation_id


async def reply(harness: Harness, contact: CanaryContact, volunteer: Console, conversation: str, body: str) -> None:
    assert (await volunteer.post(f"{conversation}/messages", {"body": body})).status == 201
    await harness.send_outbox()
    await contact.receive_replies()


async def test_nothing_identifying_is_ever_at_rest_and_nothing_survives_retention(
    harness: Harness, contacts: list[CanaryContact], captured_log: CapturedLog
) -> None:
    """Across every channel and path, no identifier is ever stored; after retention and a purge nothing opens."""
    staff = {"amira": await harness.console("amira"), "ben": await harness.console("ben", live=True)}
    assert (await staff["ben"].post("/api/me/availability", {"availability": "available"})).status == 200
    for name in ("sam", "sue"):
        staff[name] = await harness.console(name, role="supervisor")
    try:
        conversation_ids = [await walk(harness, contact, staff) for contact in contacts]
        await harness.helpline.provider_deletion.run_once()
    finally:
        for contact in contacts:
            await contact.close()
    assert not any(m["direction"] == "inbound" for m in harness.twilio.messages.values())
    assert harness.twilio.media and not any(harness.twilio.media.values())

    identifiers = [form for c in contacts for i in c.canaries.identifiers for form in identifier_forms(i)]
    texts = [form for c in contacts for t in c.canaries.texts for form in text_forms(t)]
    assert_nowhere(harness.data_dir, harness.db, identifiers + texts, "closed")
    keyring = Keyring.load(harness.data_dir / "master.key")
    database = harness.db
    readable_before = " ".join(plain for _, _, plain in openable(database, keyring))
    assert "CANARY-SMS-IN-1" in readable_before and "CANARY-WEBCHAT-WHISPER" in readable_before
    sealed_before = ciphertexts_of(database, conversation_ids)

    harness.clock.advance(days=31)
    report = await harness.helpline.purger.run_once()
    assert report.conversations == len(contacts)
    assert_nowhere(harness.data_dir, harness.db, identifiers + texts, "purged")
    assert openable(database, keyring) == []
    files = at_rest(harness.data_dir, database)
    for sealed in sealed_before:
        assert not any(sealed in content for content in files.values()), "a ciphertext outlived the purge"

    await harness.close()
    assert_nowhere(harness.data_dir, harness.db, identifiers + texts, "stopped")
    assert captured_log.lines, "the run logged nothing, so the log check would prove nothing"
    for line in captured_log.lines:
        lowered = line.lower()
        for needle in identifiers + texts:
            assert needle.lower() not in lowered, f"{needle!r} found in a log line"
