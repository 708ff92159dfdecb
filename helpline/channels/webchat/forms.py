"""The chat's HTTP pages: ``/chat``, ``/chat/frame``, the plain-HTML form posts, and ``/widget.js``.

Without JavaScript the chat is these forms (see ``page``): each POST carries the token in a hidden field
and answers with the whole page, never a redirect, since a redirect would need the token in the URL.
Each rendered send form carries a fresh message id, so a form the browser sends twice (a reload that
resubmits it) is stored once. Posts must come from the chat page itself, so another site cannot start or
drive a chat through someone's browser: ``Sec-Fetch-Site`` says so, and a browser too old to send it must
name the helpline's own origin in ``Origin`` (or, with no usable ``Origin``, in ``Referer``). For those
browsers to send it on our own forms, the chat's pages use ``Referrer-Policy: same-origin`` (no other site
is ever sent a referrer from them, as with ``no-referrer``).

Pages that may be shown inside the widget's iframe (``/chat/frame`` and the posts it makes) allow the
host origins in ``webchat.frame_ancestors``; everything else keeps ``frame-ancestors 'none'``.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from helpline.channels.webchat.limits import NetworkTags, client_address
from helpline.channels.webchat.page import PageView, render
from helpline.channels.webchat.protocol import valid_client_id
from helpline.channels.webchat.registry import Chat
from helpline.channels.webchat.service import ENDED_TEXT, ChatService, ChatStatus, Refusal, status_text
from helpline.log import get_logger

STATIC = Path(__file__).parent / "static"
log = get_logger(__name__)
_MAX_FORM_BYTES = 64 * 1024
_FORM = "application/x-www-form-urlencoded"
_ASSETS = {"chat.js": "application/javascript; charset=utf-8", "chat.css": "text/css; charset=utf-8"}


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def chat_policy(public_url: str, exit_url: str, ancestors: str) -> str:
    """The chat page's Content-Security-Policy: our own files only, the socket, and the exit redirect."""
    origin = origin_of(public_url)
    socket = "wss://" + origin.removeprefix("https://") if origin.startswith("https://") else "ws://" + origin[7:]
    return (
        f"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self' {socket}; "
        f"form-action 'self' {origin_of(exit_url)}; frame-ancestors {ancestors}; base-uri 'none'"
    )


class ChatPages:
    """Handlers for the chat's pages and forms."""

    def __init__(
        self,
        service: ChatService,
        networks: NetworkTags,
        *,
        title: str,
        exit_url: str,
        public_url: str,
        frame_ancestors: tuple[str, ...],
        heartbeat_seconds: float,
        trusted_proxy_hops: int,
        timezone: str,
    ) -> None:
        self._service = service
        self._networks = networks
        self._title = title
        self._exit_url = exit_url
        self._heartbeat = heartbeat_seconds
        self._hops = trusted_proxy_hops
        self._timezone = timezone
        self._origin = origin_of(public_url)
        self._policy = chat_policy(public_url, exit_url, "'none'")
        self._framed_policy = chat_policy(public_url, exit_url, " ".join(frame_ancestors) or "'none'")
        self._frame_ancestors = frame_ancestors
        self._widget_template = (STATIC / "widget.js").read_text(encoding="utf-8")
        self._widget_config = {"origin": origin_of(public_url), "exitUrl": exit_url}

    # Pages

    async def page(self, request: web.Request) -> web.Response:
        return self._new_chat_page(embedded=False)

    async def frame(self, request: web.Request) -> web.Response:
        return self._new_chat_page(embedded=True)

    def _new_chat_page(self, *, embedded: bool) -> web.Response:
        state = "new" if self._service.is_open() else "closed"
        view = self._view(state, embedded=embedded, message_id=_message_id(), status=status_text(ChatStatus(state)))
        return self._html(view, embedded=embedded)

    async def asset(self, request: web.Request) -> web.StreamResponse:
        """The chat page's own script and stylesheet (the widget script is served, configured, as /widget.js)."""
        name = request.match_info["name"]
        if name not in _ASSETS:
            raise web.HTTPNotFound()
        return web.FileResponse(STATIC / name, headers={"Content-Type": _ASSETS[name]})

    async def widget(self, request: web.Request) -> web.Response:
        # The host page's origin (browsers send it in the Referer of a script request): only a page on an origin
        # in webchat.frame_ancestors may show the chat in a frame; any other gets a launcher that opens /chat
        # in a tab of its own, and the server says why in its log.
        referer = request.headers.get("Referer", "")
        host = origin_of(referer) if referer.startswith(("http://", "https://")) else ""
        allowed = bool(host) and host in self._frame_ancestors
        if not allowed:
            reason = "no_referer" if not host else "origin_not_in_frame_ancestors"
            log.warning("webchat.widget_not_framed", reason=reason, setting="webchat.frame_ancestors")
        config = {**self._widget_config, "allowed": allowed}
        text = self._widget_template.replace("__HELPLINE_CONFIG__", json.dumps(config))
        response = web.Response(text=text, content_type="application/javascript", charset="utf-8")
        response.headers["Vary"] = "Referer"
        # Host pages on other sites load it with a <script> tag.
        response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        return response

    # Form posts (the chat without JavaScript)

    async def send(self, request: web.Request) -> web.Response:
        form, embedded = await self._form(request)
        if form is None:
            return self._refused_origin(embedded)
        draft = form.get("body", "")
        message_id = form.get("message_id", "")
        if not valid_client_id(message_id):
            message_id = _message_id()
        token_text = form.get("token", "")
        if token_text:
            resumed = await self._service.resume(token_text)
            if isinstance(resumed, Refusal):
                return self._html(self._ended_view(resumed.message, embedded), embedded=embedded, status=410)
            token, chat = resumed
        elif not self._service.is_open():
            return self._html(self._view("closed", embedded=embedded), embedded=embedded)
        else:
            token, chat = self._service.start()
        network = self._networks.tag(client_address(request, self._hops))
        posted = await self._service.post(chat, message_id, draft, network)
        if isinstance(posted, Refusal):
            view = await self._chat_view(chat, token.text, embedded, message_id=message_id, draft=draft)
            return self._html(_with_error(view, posted.message), embedded=embedded, status=_status_of(posted))
        return self._html(await self._chat_view(chat, token.text, embedded), embedded=embedded)

    async def refresh(self, request: web.Request) -> web.Response:
        form, embedded = await self._form(request)
        if form is None:
            return self._refused_origin(embedded)
        resumed = await self._service.resume(form.get("token", ""))
        if isinstance(resumed, Refusal):
            return self._html(self._ended_view(resumed.message, embedded), embedded=embedded, status=410)
        token, chat = resumed
        self._service.touch(chat)
        return self._html(await self._chat_view(chat, token.text, embedded), embedded=embedded)

    async def end(self, request: web.Request) -> web.Response:
        form, embedded = await self._form(request)
        if form is None:
            return self._refused_origin(embedded)
        resumed = await self._service.resume(form.get("token", ""))
        if not isinstance(resumed, Refusal):
            await self._service.end(resumed[1], "ended")
        return self._html(self._ended_view(ENDED_TEXT["ended"], embedded), embedded=embedded)

    async def exit(self, request: web.Request) -> web.StreamResponse:
        """Quick exit: end the chat and leave for the exit site (a beacon from chat.js gets 204 instead)."""
        form, _ = await self._form(request)
        if form is not None:
            resumed = await self._service.resume(form.get("token", ""))
            if not isinstance(resumed, Refusal):
                await self._service.end(resumed[1], "quick_exit")
            if form.get("beacon") == "1":
                return web.Response(status=204)
        return web.Response(status=303, headers={"Location": self._exit_url})

    # Helpers

    async def _form(self, request: web.Request) -> tuple[dict[str, str] | None, bool]:
        """The posted form, or None when it did not come from the chat page itself."""
        if not self._from_our_page(request):
            log.info("webchat.form_refused", reason="cross_site")
            return None, False
        if request.content_length is not None and request.content_length > _MAX_FORM_BYTES:
            return None, False
        if request.body_exists and request.content_type != _FORM:
            # The chat's forms and beacons are ordinary forms; a multipart body is not read at all.
            raise web.HTTPUnsupportedMediaType()
        posted = await request.post()
        form = {key: value for key, value in posted.items() if isinstance(value, str)}
        return form, form.get("embedded") == "1"

    def _from_our_page(self, request: web.Request) -> bool:
        """Whether the browser says the post came from one of our own pages."""
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None:
            return site in ("same-origin", "none")
        origin = request.headers.get("Origin", "null")
        if origin != "null":
            return origin == self._origin
        # No Origin, or "null" (an opaque origin, which any site can produce): the Referer must be ours.
        referer = request.headers.get("Referer", "")
        return bool(referer) and origin_of(referer) == self._origin

    def _refused_origin(self, embedded: bool) -> web.Response:
        view = self._view("new", embedded=embedded, message_id=_message_id())
        return self._html(_with_error(view, "Please use the chat page itself to send messages."), embedded, status=403)

    def _view(self, state: str, *, embedded: bool, **extra: Any) -> PageView:
        rules = self._service.rules
        base = PageView(
            title=self._title,
            state=state,
            exit_url=self._exit_url,
            max_chars=rules.max_message_chars,
            heartbeat=self._heartbeat,
            timezone=self._timezone,
            embedded=embedded,
            out_of_hours=self._service.closed_text(),
            signposting=rules.signposting,
        )
        return _replace(base, **extra)

    def _ended_view(self, text: str, embedded: bool) -> PageView:
        return self._view("ended", embedded=embedded, ended_text=text)

    async def _chat_view(
        self, chat: Chat, token: str, embedded: bool, *, message_id: str | None = None, draft: str = ""
    ) -> PageView:
        if self._service.registry.has_ended(chat.address):
            return self._ended_view(ENDED_TEXT["ended"], embedded)
        status = await self._service.status(chat)
        return self._view(
            status.state,
            embedded=embedded,
            token=token,
            message_id=message_id or _message_id(),
            status=status_text(status),
            messages=await self._service.transcript(chat, 0),
            draft=draft,
        )

    def _html(self, view: PageView, embedded: bool, *, status: int = 200) -> web.Response:
        response = web.Response(text=render(view), content_type="text/html", charset="utf-8", status=status)
        response.headers["Content-Security-Policy"] = self._framed_policy if embedded else self._policy
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "same-origin"
        return response


def _message_id() -> str:
    return secrets.token_urlsafe(12)


def _with_error(view: PageView, message: str) -> PageView:
    return _replace(view, error=message)


def _replace(view: PageView, **changes: Any) -> PageView:
    return dataclasses.replace(view, **changes)


def _status_of(refusal: Refusal) -> int:
    if refusal.code in ("slow_down", "network_busy", "too_many_chats", "busy", "network_full"):
        return 429
    if refusal.code == "ended":
        return 410
    return 400
