"""Property tests: whatever bytes arrive, parsing ends in safe text and a reply can always be written.

Two generators: plain random bytes, and messages assembled from the pieces that break parsers (MIME
headers with odd parameters, boundaries, encoded words, raw 8-bit bytes, CRs and LFs in odd places).
"""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from helpline.channels.email.addresses import normalise_address
from helpline.channels.email.context import ReplyContext
from helpline.channels.email.intake import compose_body
from helpline.channels.email.parsing import ParsedMail, parse_message

FUZZ = hypothesis_settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
MESSAGE_ID = re.compile(r"^<[!-;=?-~]+>$")

HEADER_NAMES = st.sampled_from(
    [
        "From", "Subject", "Message-ID", "In-Reply-To", "References", "Content-Type",
        "Content-Transfer-Encoding", "Content-Disposition", "MIME-Version", "Auto-Submitted", "Received",
    ]
)  # fmt: skip
PIECES = st.sampled_from(
    [
        "multipart/mixed; boundary=b", "multipart/alternative; boundary=\"b\"", "text/plain; charset=x-nope",
        "text/html; charset=utf-16", "text/plain; charset*=utf-8''%ff", "message/rfc822", "base64",
        "quoted-printable", "x-uuencode", "attachment; filename*0=a; filename*1=b", "=?utf-8?q?a=0D=0Ab?=",
        "=?x-unknown?b?////?=", "<a@b>", "<<>>", "jo@example.net", "\"J, o\" <jo@example.net>", "a@b, c@d",
        "--b", "--b--", "\r\n", "\n", "\r", "\r\n\r\n", ".", "\t", ":", ";", "=", "\"", "<html><p>x</p>",
        "\x00", "\xff", "\u202e", "=\r\n", "auto-replied",
    ]
)  # fmt: skip


def check(parsed: ParsedMail) -> None:
    """The invariants every parse keeps."""
    for text in (parsed.subject, parsed.text, parsed.message_id, *parsed.thread_refs):
        text.encode("utf-8")
    assert "\r" not in parsed.subject and "\n" not in parsed.subject
    assert "\r" not in parsed.text and "\x00" not in parsed.text
    assert parsed.attachments_removed >= 0
    assert all(
        MESSAGE_ID.match(ref) for ref in (*parsed.thread_refs, *([parsed.message_id] if parsed.message_id else []))
    )
    assert parsed.sender is None or normalise_address(parsed.sender) == parsed.sender
    body = compose_body(parsed, 500)
    body.encode("utf-8")
    assert body.strip()
    context = ReplyContext.loads(ReplyContext.after(parsed.subject, parsed.message_id, list(parsed.references)).dumps())
    reply = EmailMessage(policy=policy.SMTP)
    reply["Subject"] = context.reply_subject("Your message")
    if context.message_id:
        reply["In-Reply-To"] = context.message_id
    if context.reference_chain():
        reply["References"] = " ".join(context.reference_chain())
    reply.set_content("reply")
    head = reply.as_bytes().split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":", 1)[0] for line in head.split(b"\r\n") if line and line[:1] not in (b" ", b"\t")]
    assert sorted(set(names)) == sorted(names)
    assert set(names) <= {
        b"Subject",
        b"In-Reply-To",
        b"References",
        b"Content-Type",
        b"Content-Transfer-Encoding",
        b"MIME-Version",
    }


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_never_break_the_parser(raw: bytes) -> None:
    """Any bytes at all parse to safe text without raising."""
    check(parse_message(raw))


@st.composite
def hostile_messages(draw: st.DrawFn) -> bytes:
    headers = draw(
        st.lists(
            st.tuples(HEADER_NAMES, st.lists(st.one_of(PIECES, st.text(max_size=8)), max_size=6)),
            max_size=8,
        )
    )
    body = draw(
        st.lists(
            st.one_of(PIECES, st.text(max_size=20), st.binary(max_size=12).map(lambda b: b.decode("latin-1"))),
            max_size=30,
        )
    )
    head = "".join(f"{name}: {''.join(value)}\r\n" for name, value in headers)
    raw = head + "\r\n" + "".join(body)
    return raw.encode("utf-8", "surrogateescape") if draw(st.booleans()) else raw.encode("latin-1", "replace")


@FUZZ
@given(hostile_messages())
def test_hostile_mime_never_breaks_the_parser(raw: bytes) -> None:
    """Messages built from the pieces that break parsers parse to safe text without raising."""
    check(parse_message(raw))
