"""Reading one email: the contact's text, their address, and the few headers threading needs.

The message is parsed with ``email.policy.default``. The text is chosen as a mail client would show it:
in a ``multipart/alternative`` the text/plain part wins over text/html, HTML is turned into text locally
(``htmltext``), and the other parts of a ``multipart/mixed`` follow in order. Everything that is not text
— images, documents, forwarded messages, text marked as an attachment — is dropped unread and counted, so
the volunteer is told that N attachments were removed. Quoted history and signatures are trimmed
(``quoting``).

Every other header is dropped here: only the sender's address, the subject, the Message-ID and the
In-Reply-To/References ids leave this module, and the caller keeps them only sealed or as keyed HMACs.

Mail is hostile input: malformed MIME, unknown charsets, raw 8-bit headers and absurd nesting all end
in readable (if imperfect) text, never in an exception. ``parse_message`` does not raise.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from email.parser import BytesParser

from helpline.channels.email.addresses import normalise_address
from helpline.channels.email.context import MAX_REFERENCES, clean_line, message_ids
from helpline.channels.email.htmltext import html_to_text
from helpline.channels.email.quoting import trim_reply

MAX_DEPTH = 20
MAX_PARTS = 500
MAX_BOUNDARIES = 32
_BOUNDARY_PARAMETER = re.compile(rb"boundary\s*(?:\*\d*)?\*?\s*=", re.IGNORECASE)
_SIGNATURES = frozenset({"application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature"})
_AUTOMATIC_PRECEDENCE = frozenset({"bulk", "junk", "list"})
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_ANGLE_ADDRESS = re.compile(r"<([^<>]{1,320})>")


@dataclass(frozen=True)
class ParsedMail:
    """What is kept of one email, before the core seals it."""

    sender: str | None = field(repr=False)
    subject: str = field(repr=False)
    text: str = field(repr=False)
    message_id: str = field(repr=False)
    in_reply_to: tuple[str, ...] = field(repr=False)
    references: tuple[str, ...] = field(repr=False)
    attachments_removed: int
    automatic: bool
    unreadable: bool = False

    @property
    def thread_refs(self) -> tuple[str, ...]:
        """Every Message-ID this mail says it answers, most specific (In-Reply-To) first."""
        seen: dict[str, None] = {}
        for ref in (*self.in_reply_to, *reversed(self.references)):
            seen.setdefault(ref, None)
        return tuple(seen)[: MAX_REFERENCES * 2]


@dataclass
class _Text:
    """Text pieces found so far, each marked as plain or HTML, and how many parts were dropped."""

    pieces: list[tuple[str, str]] = field(default_factory=list)
    removed: int = 0
    parts: int = 0

    @property
    def all_plain(self) -> bool:
        return bool(self.pieces) and all(kind == "plain" for kind, _ in self.pieces)


def parse_message(raw: bytes) -> ParsedMail:
    """Everything the helpline keeps of one raw RFC 5322 message; never raises."""
    message: Message | None = None
    # The parser checks every line against every open boundary, so its time grows with depth times lines:
    # a small, absurdly nested message could cost seconds. No mail client nests anywhere near this deep.
    if len(_BOUNDARY_PARAMETER.findall(raw)) <= MAX_BOUNDARIES:
        try:
            message = message_from_bytes(raw, policy=policy.default)
        except Exception:  # noqa: BLE001 - e.g. RecursionError on absurd nesting: fall back to the headers alone
            message = None
    if message is None:
        try:
            message = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
        except Exception:  # noqa: BLE001 - nothing of it can be read
            return ParsedMail(None, "", "", "", (), (), 0, automatic=False, unreadable=True)
        return _headers_of(message, text="", removed=0, unreadable=True)
    collected = _Text()
    try:
        _collect(message, 0, collected)
        text = "\n\n".join(piece for piece in (_render(kind, body) for kind, body in collected.pieces) if piece)
        text = trim_reply(text)
    except Exception:  # noqa: BLE001 - a parser bug on hostile input ends in "unreadable", not a crash
        return _headers_of(message, text="", removed=collected.removed, unreadable=True)
    return _headers_of(message, text=text, removed=collected.removed, unreadable=False)


def _headers_of(message: Message, *, text: str, removed: int, unreadable: bool) -> ParsedMail:
    raw_message_id = message_ids(_header(message, "message-id"))
    return ParsedMail(
        sender=_sender(message),
        subject=clean_line(_decoded_header(message, "subject")),
        text=text,
        message_id=raw_message_id[0] if raw_message_id else "",
        in_reply_to=tuple(message_ids(_header(message, "in-reply-to"))[:MAX_REFERENCES]),
        references=tuple(message_ids(_header(message, "references"))[-MAX_REFERENCES:]),
        attachments_removed=removed,
        automatic=_automatic(message),
        unreadable=unreadable,
    )


def _collect(part: Message, depth: int, found: _Text) -> None:
    found.parts += 1
    if depth > MAX_DEPTH or found.parts > MAX_PARTS:
        found.removed += 1
        return
    content_type = part.get_content_type()
    if content_type.startswith("message/"):
        # A forwarded or attached message: an attachment like any other.
        found.removed += 1
        return
    if part.is_multipart():
        children = [c for c in part.get_payload() if isinstance(c, Message)]
        if content_type == "multipart/alternative":
            _collect_alternative(children, depth, found)
        else:
            for child in children:
                _collect(child, depth + 1, found)
        return
    if content_type in _SIGNATURES:
        return
    disposition = part.get_content_disposition()
    if content_type in ("text/plain", "text/html") and disposition != "attachment":
        try:
            body = _decoded_body(part)
        except Exception:  # noqa: BLE001 - one broken part must not cost the rest of the message
            found.removed += 1
            return
        if body.strip():
            found.pieces.append(("plain" if content_type == "text/plain" else "html", body))
        return
    found.removed += 1


def _collect_alternative(children: list[Message], depth: int, found: _Text) -> None:
    """The best alternative: the first wholly plain one, else the first with any text."""
    options: list[_Text] = []
    for child in children:
        option = _Text(parts=found.parts)
        _collect(child, depth + 1, option)
        found.parts = option.parts
        options.append(option)
    chosen = next((o for o in options if o.all_plain), None) or next((o for o in options if o.pieces), None)
    if chosen is not None:
        found.pieces.extend(chosen.pieces)
        found.removed += chosen.removed
    elif options:
        found.removed += max(o.removed for o in options)


def _render(kind: str, body: str) -> str:
    text = html_to_text(body) if kind == "html" else body
    return clean_text(text)


def clean_text(text: str) -> str:
    """Text fit to store and show: one kind of newline, no control or direction-override characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _TEXT_CONTROL.sub("", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _unicode(text).strip()


def _decoded_body(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset()
    if charset in (None, "us-ascii", "ascii"):
        # Undeclared 8-bit text is UTF-8 far more often than not; UTF-8 reads ASCII unchanged.
        charset = "utf-8"
    try:
        codecs.lookup(charset)
        return payload.decode(charset, errors="replace")
    except (LookupError, ValueError, UnicodeError, TypeError):
        # An unknown or broken charset: UTF-8 is the likeliest truth, and replacement marks the rest.
        return payload.decode("utf-8", errors="replace")


def _unicode(text: str) -> str:
    """Lone surrogates (raw 8-bit bytes the parser escaped) back to bytes, then read as UTF-8."""
    return text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")


def _header(message: Message, name: str) -> str:
    """A header's raw value, unparsed (the first one, if repeated)."""
    for key, value in message.raw_items():
        if key.lower() == name:
            return _unicode(str(value))
    return ""


def _decoded_header(message: Message, name: str) -> str:
    """A header's value with encoded words decoded; the raw value if decoding fails."""
    try:
        value = message.get(name)
        return _unicode(str(value)) if value is not None else ""
    except Exception:  # noqa: BLE001 - the header registry can fail on hostile input; fall back to raw text
        return _header(message, name)


def _sender(message: Message) -> str | None:
    """The one mailbox in ``From``, normalised; None when there is not exactly one usable address."""
    parsed = _registry_sender(message)
    if parsed is not None:
        return parsed
    raw = _header(message, "from")
    angled = _ANGLE_ADDRESS.findall(raw)
    if len(angled) == 1:
        return normalise_address(angled[0])
    return normalise_address(raw) if "," not in raw else None


def _registry_sender(message: Message) -> str | None:
    try:
        addresses = getattr(message.get("from"), "addresses", None)
        if addresses is None or len(addresses) != 1:
            return None
        return normalise_address(_unicode(str(addresses[0].addr_spec)))
    except Exception:  # noqa: BLE001 - the header registry can fail on hostile input; the raw form is tried next
        return None


def _automatic(message: Message) -> bool:
    """Whether the mail was sent by a machine (RFC 3834): such mail must never be answered automatically."""
    auto_submitted = _header(message, "auto-submitted").strip().lower()
    precedence = _header(message, "precedence").strip().lower()
    listed = bool(_header(message, "list-id"))
    return auto_submitted not in ("", "no") or precedence in _AUTOMATIC_PRECEDENCE or listed
