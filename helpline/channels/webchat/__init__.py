"""Web chat: an anonymous, trace-free chat for the charity's website (``/chat``, ``/widget.js``, ``/chat/ws``).

No cookies; the session token lives in the tab's ``sessionStorage`` (or, without JavaScript, in the
page's forms) and never in a URL; no third-party requests; quick exit; no address or user agent kept.
See ``protocol`` for the socket's frames and ``page`` for the chat without JavaScript.
"""
