"""The chat page's HTML: one page that works as plain forms and that ``chat.js`` turns into a live chat.

Without JavaScript (Tor Browser at its Safest level) the page is the whole chat: a form to send, a button
to check for replies, one to end the chat and one to leave. The session token then travels the only way
it can without a cookie or a URL: in a hidden field of each form, and in the page that the form's POST
returns (never cached: ``Cache-Control: no-store``). With JavaScript the same elements come alive and the
token moves to ``sessionStorage``.

Every piece of text from a person is escaped here; nothing is ever inserted as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from helpline.channels.webchat.service import ContactMessage
from helpline.clock import to_text

_WHO = {"you": "You", "volunteer": "Volunteer", "helpline": "Automatic message"}


@dataclass(frozen=True)
class PageView:
    """Everything one rendering of the chat page shows."""

    title: str
    state: str  # new, waiting, active, ended or closed
    exit_url: str
    max_chars: int
    heartbeat: float
    timezone: str
    embedded: bool = False
    token: str = field(default="", repr=False)
    message_id: str = ""
    status: str = ""
    messages: Sequence[ContactMessage] = ()
    error: str = ""
    draft: str = field(default="", repr=False)
    ended_text: str = ""
    out_of_hours: str = ""
    signposting: Sequence[str] = ()


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def _hidden(view: PageView) -> str:
    fields = [f'<input type="hidden" name="token" value="{_attr(view.token)}">']
    if view.embedded:
        fields.append('<input type="hidden" name="embedded" value="1">')
    return "".join(fields)


def _time(moment: datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    return f'<time datetime="{_attr(to_text(moment))}">{local:%H:%M}</time>'


def _message(item: ContactMessage, timezone: str) -> str:
    return (
        f'<li class="message message--{_attr(item.sender)}" data-seq="{item.seq}">'
        f'<p class="message-meta"><span class="message-who">{_WHO.get(item.sender, "Helpline")}</span> '
        f"{_time(item.at, timezone)}</p>"
        f'<p class="message-body" dir="auto">{escape(item.body)}</p></li>'
    )


def _signposting(lines: Sequence[str]) -> str:
    if not lines:
        return ""
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f'<ul class="signposting">{items}</ul>'


def render(view: PageView) -> str:
    """The chat page for one state."""
    chatting = view.state in ("new", "waiting", "active")
    ended = view.state == "ended"
    closed = view.state == "closed"
    hidden = " hidden"
    start_action = "/chat/frame" if view.embedded else "/chat"
    transcript = "".join(_message(m, view.timezone) for m in view.messages)
    show_transcript = chatting or (ended and bool(view.messages))
    body_attrs = (
        f'data-ws="/chat/ws" data-exit-url="{_attr(view.exit_url)}" data-max-chars="{view.max_chars}" '
        f'data-heartbeat="{view.heartbeat:g}" data-embedded="{"true" if view.embedded else "false"}" '
        f'data-state="{_attr(view.state)}"'
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>{escape(view.title)}</title>
<link rel="stylesheet" href="/chat/static/chat.css">
<script src="/chat/static/chat.js" defer></script>
</head>
<body {body_attrs}>
<header class="exit-bar">
<form method="post" action="/chat/exit" target="_top" class="exit-form">{_hidden(view)}
<button type="submit" id="exit-button" class="exit-button">Exit this page</button>
</form>
<p class="exit-hint js-only">Or press Shift 3 times</p>
</header>
<main id="main" class="chat">
<h1 class="chat-title">Chat</h1>
<p class="intro">Talk to a trained volunteer. We don't know who you are or where you are, unless you tell us.</p>
<p class="intro nojs-only">New replies do not appear by themselves here: use <strong>Check for replies</strong>.</p>
<details class="cover-tracks">
<summary>Keep this chat private</summary>
<ul>
<li>If someone else uses this phone or computer, open this page in a private window (also called incognito):
it is not kept in your history.</li>
<li>Afterwards, clear your browsing history, or just this site from it.</li>
<li><strong>Exit this page</strong> ends the chat and takes you to a weather page. It does not clear your
history.</li>
</ul>
</details>
<section id="closed" class="panel" aria-labelledby="closed-heading"{"" if closed else hidden}>
<h2 id="closed-heading">The chat is closed</h2>
<p id="closed-message">{escape(view.out_of_hours)}</p>
{_signposting(view.signposting)}
</section>
<p id="chat-status" class="chat-status" role="status">{escape(view.status)}</p>
<div id="transcript" class="transcript" role="log" aria-live="polite" aria-label="Messages" tabindex="0"\
{"" if show_transcript else hidden}>
<ol id="messages" class="messages">{transcript}</ol>
</div>
<p id="typing" class="typing" hidden>The volunteer is typing…</p>
<div id="idle-warning" class="idle-warning" role="alert" hidden>
<p>Are you still there? The chat will end soon if we don't hear from you.</p>
<button type="button" id="still-here">I'm still here</button>
</div>
<div id="send-error" class="alert" role="alert">{escape(view.error)}</div>
<form id="send-form" method="post" action="/chat/send" class="send-form"{"" if chatting else hidden}>{_hidden(view)}
<input type="hidden" name="message_id" value="{_attr(view.message_id)}">
<label for="message">Your message</label>
<p id="message-hint" class="hint">Up to {view.max_chars} characters.</p>
<textarea id="message" name="body" rows="3" maxlength="{view.max_chars}" aria-describedby="message-hint">\
{escape(view.draft)}</textarea>
<div class="actions"><button type="submit" id="send-button">Send</button></div>
</form>
<div class="chat-actions"{"" if chatting else hidden}>
<form method="post" action="/chat/refresh" class="nojs-only">{_hidden(view)}
<button type="submit" class="button-secondary">Check for replies</button>
</form>
<form id="end-form" method="post" action="/chat/end">{_hidden(view)}
<button type="submit" id="end-button" class="button-secondary">End chat</button>
</form>
</div>
<section id="ended" class="panel" aria-labelledby="ended-heading"{"" if ended else hidden}>
<h2 id="ended-heading">The chat has ended</h2>
<p id="ended-text">{escape(view.ended_text)}</p>
{_signposting(view.signposting)}
<form id="new-chat-form" method="get" action="{start_action}">
<button type="submit" id="new-chat">Start a new chat</button>
</form>
</section>
</main>
</body>
</html>
"""
