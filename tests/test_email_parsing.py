"""Reading one email: which text is kept, what is trimmed, what is counted as removed, and what is dropped."""

from __future__ import annotations

import dataclasses

from helpline.channels.email.htmltext import html_to_text
from helpline.channels.email.parsing import parse_message
from helpline.channels.email.quoting import trim_reply


def mime(*parts: str, kind: str = "mixed", boundary: str = "b1", head: str = "From: jo@example.net\r\n") -> bytes:
    """A multipart message from ready-made part texts (each with its own headers)."""
    body = "".join(f"--{boundary}\r\n{part}\r\n" for part in parts) + f"--{boundary}--\r\n"
    return f'{head}Content-Type: multipart/{kind}; boundary="{boundary}"\r\n\r\n{body}'.encode()


PLAIN = "Content-Type: text/plain; charset=utf-8\r\n\r\nthe plain words"
HTML = "Content-Type: text/html; charset=utf-8\r\n\r\n<p>the <b>html</b> words</p>"


def test_plain_text_is_preferred_over_html() -> None:
    """In multipart/alternative the text/plain part is the one kept, whatever the order."""
    assert parse_message(mime(HTML, PLAIN, kind="alternative")).text == "the plain words"
    assert parse_message(mime(PLAIN, HTML, kind="alternative")).text == "the plain words"


def test_html_only_mail_becomes_text_without_scripts_images_or_styles() -> None:
    """HTML is read locally: text and link addresses stay; scripts, styles and images go."""
    markup = (
        "<html><head><title>t</title><style>p{color:red}</style></head><body>"
        "<p>My brother&nbsp;is <i>missing</i>.</p><script>fetch('https://evil.example/x')</script>"
        "<img src='https://tracker.example/pixel.gif' alt='x'><ul><li>since Friday</li><li>aged 15</li></ul>"
        "<p>His poster: <a href='https://poster.example/p/1'>here</a></p></body></html>"
    )
    text = parse_message(mime(f"Content-Type: text/html\r\n\r\n{markup}")).text
    assert (
        text == "My brother is missing.\n\n- since Friday\n- aged 15\n\nHis poster: here (https://poster.example/p/1)"
    )


def test_html_to_text_ignores_non_web_links_and_blockquotes() -> None:
    """javascript: and data: links are not shown; quoted history in blockquote goes."""
    markup = "<a href='javascript:alert(1)'>click</a><blockquote>old <blockquote>older</blockquote> text</blockquote>"
    assert html_to_text(markup + "<div>new</div>") == "click\nnew"


def test_quoted_history_below_a_reply_is_trimmed() -> None:
    """An attribution line and the quote below it go; the contact's words stay."""
    text = "He came home!\n\nOn Mon, 2 Mar 2026 at 09:00, Helpline <help@example.org> wrote:\n> Has he come home?\n>\n"
    assert trim_reply(text) == "He came home!"


def test_attribution_split_over_two_lines_is_trimmed() -> None:
    """Mail clients wrap long attribution lines; both halves go."""
    text = "Thanks\n\nOn Monday 2 March 2026 at 09:00:00 GMT, Helpline Volunteers\n<help@example.org> wrote:\n> x"
    assert trim_reply(text) == "Thanks"


def test_text_written_below_the_quote_is_kept() -> None:
    """Bottom-posting: the quote goes, the answer below it stays."""
    text = "On Mon, 2 Mar 2026, Helpline wrote:\n> When did you last see him?\n\nOn Friday night."
    assert trim_reply(text) == "On Friday night."


def test_outlook_history_and_signature_are_trimmed() -> None:
    """Everything from an Outlook separator goes, and so does a "-- " signature with a name in it."""
    text = "Yes please call me\n-- \nJo Bloggs\nAcme Ltd\n\n-----Original Message-----\nFrom: Helpline\nSent: ..."
    assert trim_reply(text) == "Yes please call me"
    underscores = "ok\n\n________________________________\nFrom: Helpline <help@example.org>\nSent: Monday"
    assert trim_reply(underscores) == "ok"


def test_a_message_that_is_all_quote_is_kept_whole() -> None:
    """If trimming would leave nothing, nothing is trimmed: losing words is worse than showing history."""
    text = "> only a quote\n> nothing else"
    assert trim_reply(text) == text


def test_attachments_are_dropped_and_counted() -> None:
    """Images, documents, text files marked as attachments and forwarded mail are counted, not kept."""
    raw = mime(
        PLAIN,
        "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=",
        "Content-Type: application/pdf; name=a.pdf\r\nContent-Disposition: attachment\r\n\r\n%PDF-1.4",
        "Content-Type: text/plain\r\nContent-Disposition: attachment; filename=notes.txt\r\n\r\nsecret notes",
        "Content-Type: message/rfc822\r\n\r\nFrom: a@b.example\r\n\r\nforwarded body",
    )
    parsed = parse_message(raw)
    assert parsed.text == "the plain words"
    assert parsed.attachments_removed == 4
    assert "secret notes" not in parsed.text and "forwarded body" not in parsed.text


def test_signatures_are_not_counted_as_attachments() -> None:
    """A PGP signature part is dropped silently: it is not something the contact attached."""
    raw = mime(PLAIN, "Content-Type: application/pgp-signature\r\n\r\n-----BEGIN PGP SIGNATURE-----", kind="signed")
    assert parse_message(raw).attachments_removed == 0


def test_only_threading_headers_and_the_sender_leave_the_parser() -> None:
    """Received lines, client IPs, user agents and every other header are dropped."""
    raw = (
        b"Received: from isp.example ([203.0.113.9]) by mx.example\r\n"
        b"X-Originating-IP: [198.51.100.4]\r\nUser-Agent: Mailer/1.0\r\nReply-To: other@example.org\r\n"
        b"From: Jo <jo@example.net>\r\nTo: help@example.org\r\nSubject: hi\r\nMessage-ID: <m1@example.net>\r\n"
        b"In-Reply-To: <ours@example.org>\r\nReferences: <r1@example.net> <ours@example.org>\r\n\r\nhello\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.sender == "jo@example.net"
    assert parsed.thread_refs == ("<ours@example.org>", "<r1@example.net>")
    assert parsed.message_id == "<m1@example.net>"
    kept = str(dataclasses.asdict(parsed))
    for dropped in ("203.0.113.9", "198.51.100.4", "Mailer/1.0", "isp.example", "other@example.org"):
        assert dropped not in kept
    assert "jo@example.net" not in repr(parsed) and "hello" not in repr(parsed)


def test_unknown_charset_reads_as_utf8_with_replacements() -> None:
    """A charset nobody knows is read as UTF-8, with the unreadable bytes marked."""
    raw = b"From: jo@example.net\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\ncaf\xc3\xa9 \xff ok\r\n"
    assert parse_message(raw).text == "caf\u00e9 \ufffd ok"


def test_non_text_codecs_named_as_charsets_are_not_used() -> None:
    """A "charset" that names a bytes transform (base64, rot13, zlib) is not applied."""
    for charset in ("base64", "rot13", "zlib_codec", "hex"):
        raw = f"From: jo@example.net\r\nContent-Type: text/plain; charset={charset}\r\n\r\nplain text\r\n".encode()
        assert parse_message(raw).text == "plain text"


def test_raw_eight_bit_headers_are_read_not_crashed_on() -> None:
    """UTF-8 and Latin-1 bytes straight in headers give readable (or marked) text and a sender."""
    raw = (
        b"From: J\xc3\xb6rg \xe9 <jorg@example.net>\r\nSubject: Gr\xc3\xbc\xc3\x9fe \xe9t\xe9\r\n\r\nbody \xc3\xa9\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.sender == "jorg@example.net"
    assert parsed.subject == "Gr\u00fc\u00dfe \ufffdt\ufffd"
    assert parsed.text == "body \u00e9"
    parsed.subject.encode("utf-8")


def test_malformed_mime_still_yields_text() -> None:
    """No closing boundary, a missing boundary parameter and broken base64 all end in text, not errors."""
    head = b"From: jo@example.net\r\n"
    unclosed = head + b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\n\r\nunclosed\r\n'
    assert parse_message(unclosed).text == "unclosed"
    no_boundary = b"From: jo@example.net\r\nContent-Type: multipart/mixed\r\n\r\nbare text\r\n"
    assert not parse_message(no_boundary).unreadable
    broken = head + b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29y!!*\r\n"
    assert parse_message(broken).text.startswith("hello")
    weird_cte = b"From: jo@example.net\r\nContent-Transfer-Encoding: x-weird\r\n\r\nstill text\r\n"
    assert parse_message(weird_cte).text == "still text"


def test_nested_multiparts_are_read_to_a_depth_and_counted_beyond() -> None:
    """Nesting within the limit is read; parts nested absurdly deep are dropped and counted."""
    shallow = PLAIN
    for level in range(10):
        shallow = f'Content-Type: multipart/mixed; boundary="n{level}"\r\n\r\n--n{level}\r\n{shallow}\r\n--n{level}--'
    assert parse_message(f"From: jo@example.net\r\n{shallow}\r\n".encode()).text == "the plain words"
    deep = PLAIN
    for level in range(25):
        deep = f'Content-Type: multipart/mixed; boundary="n{level}"\r\n\r\n--n{level}\r\n{deep}\r\n--n{level}--'
    parsed = parse_message(f"From: jo@example.net\r\n{deep}\r\n".encode())
    assert parsed.text == ""
    assert parsed.attachments_removed == 1


def test_absurd_nesting_is_not_parsed_but_keeps_the_headers() -> None:
    """Nesting no mail client writes (it would cost the parser seconds) leaves the text unread, the sender read."""
    for levels in (40, 3000):
        head = "".join(f'Content-Type: multipart/mixed; boundary="d{i}"\r\n\r\n--d{i}\r\n' for i in range(levels))
        raw = f"From: jo@example.net\r\nSubject: deep\r\n{head}Content-Type: text/plain\r\n\r\nx\r\n".encode()
        parsed = parse_message(raw)
        assert parsed.sender == "jo@example.net"
        assert parsed.subject == "deep"
        assert parsed.unreadable
        assert parsed.text == ""


def test_machine_mail_is_recognised() -> None:
    """Auto-Submitted, Precedence bulk and mailing lists mark mail that must never be answered automatically."""
    base = b"From: jo@example.net\r\n"
    assert parse_message(base + b"Auto-Submitted: auto-replied\r\n\r\nx").automatic
    assert parse_message(base + b"Precedence: bulk\r\n\r\nx").automatic
    assert parse_message(base + b"List-Id: <news.example.net>\r\n\r\nx").automatic
    assert not parse_message(base + b"Auto-Submitted: no\r\n\r\nx").automatic


def test_sender_must_be_one_usable_mailbox() -> None:
    """Several From addresses, a group or junk give no sender; angle-bracket and bare forms work."""
    assert parse_message(b"From: a@example.net, b@example.net\r\n\r\nx").sender is None
    assert parse_message(b"From: undisclosed-recipients:;\r\n\r\nx").sender is None
    assert parse_message(b"From: <<<@@>>>\r\n\r\nx").sender is None
    assert parse_message(b"From: A.B@EXAMPLE.NET\r\n\r\nx").sender == "a.b@example.net"
    assert parse_message(b'From: "Jo, B" <jo@example.net>\r\n\r\nx').sender == "jo@example.net"


def test_control_and_direction_override_characters_are_removed() -> None:
    """Text keeps its newlines but loses NULs, escapes and bidi overrides that could disguise it."""
    raw = "From: jo@example.net\r\nSubject: a\u202eb\r\n\r\nline\x00one\x1b[31m\r\nline\u2066two\r\n".encode()
    parsed = parse_message(raw)
    assert parsed.text == "lineone[31m\nlinetwo"
    assert parsed.subject == "a b"
