"""A fake of Twilio's Programmable Messaging REST API, served by aiohttp on 127.0.0.1.

The real ``twilio`` SDK is pointed at it (``client.api.base_url = fake.base_url``)
so the project's tests, and ``helpline bench``, exercise the same HTTP requests,
authentication and error parsing as production, without reaching the internet.
It is part of ``helpline.testing``: fakes the server itself never imports.

What is faithful (checked against the twilio 9.x SDK and Twilio's docs):

* URL layout ``/2010-04-01/Accounts/{AccountSid}/Messages[/{Sid}].json``, HTTP
  Basic authentication with the account SID and auth token, form-encoded
  create requests, 201/200/204 success codes.
* The JSON shape of the Message resource (RFC 2822 dates, string-typed
  ``num_media``/``num_segments``, ``SM``/``MM`` + 32 hex digit SIDs, ``uri`` and
  ``subresource_uris``), including ``date_sent`` being ``null`` until the
  message has actually left Twilio.
* Twilio's legacy error JSON (``code``, ``message``, ``more_info``,
  ``status``), which the SDK turns into ``TwilioRestException`` carrying the
  Twilio error code; the validation errors a messaging client usually meets
  (20003, 20404, 21211, 21212, 21602, 21603, 21604, 21610, 21617) and 20009 for
  deleting a message that is not final yet.
* The Message list, ``GET /Messages.json``: newest first, filtered by ``To``, ``From`` and
  ``DateSent`` (exactly, ``DateSent<`` on or before, ``DateSent>`` on or after; a date ``YYYY-MM-DD`` or a
  UTC time ``YYYY-MM-DDTHH:MM:SSZ``, as the SDK sends). As at Twilio, ``date_sent`` is null until a
  message has left Twilio, so a ``DateSent`` filter never returns a message still queued. Pages carry
  Twilio's fields (``messages``, ``page``, ``page_size``, ``start``, ``end``, ``uri``,
  ``first_page_uri``, ``next_page_uri`` with a ``PageToken``, ``previous_page_uri``); ``PageSize`` is 50
  unless given (at most 1000). A filter value Twilio would refuse answers 400 with code 20001.
* An inbound message's Media subresource: ``/Messages/{Sid}/Media.json`` lists it
  (``media_list``, page metadata) and ``/Messages/{Sid}/Media/{MediaSid}.json``
  fetches or deletes one; deleting a message does not delete its media (tests
  can see media left behind in ``media``).
* Webhooks (status callbacks, inbound SMS parameters) carry the form fields
  Twilio sends and an ``X-Twilio-Signature`` computed by the SDK's own
  ``RequestValidator``, so the project's signature check is tested for real.

What is simplified: messages never progress by themselves (tests move them with
``set_status``); there is no message update endpoint, no Messaging Service sender
pool, no pricing and no carrier lookup; anything unimplemented answers a
Twilio-style 404 JSON so a test cannot silently depend on it.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import math
import re
import secrets
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from types import MappingProxyType, TracebackType
from typing import Any, Final
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

# The SDK ships without a py.typed marker; "unused-ignore" keeps this line
# valid should the project's mypy configuration silence untyped imports itself.
from twilio.request_validator import (  # type: ignore[import-untyped, unused-ignore]
    RequestValidator,
)

API_VERSION: Final = "2010-04-01"

# Statuses in which Twilio refuses DELETE with 20009: the message is still
# being processed, or (for "sent") Twilio is still waiting for the carrier's
# delivery receipt and has not finalised the record.
_IN_PROGRESS: Final = frozenset({"accepted", "scheduled", "queued", "sending", "sent", "receiving"})
_FAILED: Final = frozenset({"failed", "undelivered"})
_LEFT_TWILIO: Final = frozenset({"sent", "delivered", "undelivered", "read"})

# Default carrier errors attached to failed/undelivered messages, with the
# descriptions Twilio puts in ``error_message``.
_ERROR_MESSAGES: Final = MappingProxyType(
    {
        30003: "Unreachable destination handset",
        30005: "Unknown destination handset",
        30006: "Landline or unreachable carrier",
        30007: "Message filtered",
        30008: "Unknown error",
    }
)
_DEFAULT_ERROR: Final = MappingProxyType({"failed": 30008, "undelivered": 30003})

_E164: Final = re.compile(r"^\+[1-9]\d{6,14}$")
# A From may be an E.164 number, a short code or an alphanumeric sender ID
# (at most 11 characters, at least one letter).
_SHORT_CODE: Final = re.compile(r"^\d{3,8}$")
_ALPHANUMERIC_ID: Final = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")

_MESSAGES_PATH: Final = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")
_MESSAGE_PATH: Final = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)\.json$")
_MEDIA_LIST_PATH: Final = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)/Media\.json$")
_MEDIA_PATH: Final = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)/Media/(?P<media>[^/]+)\.json$"
)

# GSM 03.38 alphabet, used to count segments the way carriers do: 160 GSM-7
# characters in one SMS (153 per part when concatenated), else 70 UCS-2 code
# units (67 per part). Extension characters cost two septets.
_GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED: Final = frozenset("^{}\\[~]|€\f")

# Country of the few prefixes the helpline meets, for the FromCountry/ToCountry
# webhook fields; Twilio leaves geographic fields empty when it has no data.
_COUNTRY_PREFIXES: Final = (("+44", "GB"), ("+353", "IE"), ("+1", "US"))


@dataclass(frozen=True)
class _Failure:
    """One queued injected error response."""

    status: int
    code: int
    message: str


def _rfc2822(moment: datetime) -> str:
    """Format as the 2010-04-01 API does: "Thu, 24 Aug 2023 05:01:45 +0000"."""
    return format_datetime(moment)


# The Message list's date filters: the query parameter and how a message's date_sent compares with it.
_SENT_FILTERS: Final = MappingProxyType({"DateSent": "=", "DateSent<": "<=", "DateSent>": ">="})


def _sent_bound(text: str) -> date | datetime:
    """A DateSent filter's value: a date (a whole UTC day) or a UTC time, as Twilio accepts them."""
    if len(text) == 10:
        return date.fromisoformat(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(text)
    return moment.astimezone(UTC)


def _sent_matches(date_sent: str | None, op: str, bound: date | datetime) -> bool:
    if date_sent is None:  # not yet left Twilio: no DateSent filter matches it
        return False
    sent = parsedate_to_datetime(date_sent).astimezone(UTC)
    value: date | datetime = sent if isinstance(bound, datetime) else sent.date()
    if op == "=":
        return value == bound
    if op == "<=":
        return value <= bound
    return value >= bound


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _num_segments(body: str) -> int:
    """Count SMS segments for ``body`` (a media-only message is one segment)."""
    if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in body):
        units = len(body) + sum(ch in _GSM7_EXTENDED for ch in body)
        single, part = 160, 153
    else:
        units = len(body.encode("utf-16-le")) // 2
        single, part = 70, 67
    if units <= single:
        return 1
    return math.ceil(units / part)


def _country(number: str) -> str:
    for prefix, country in _COUNTRY_PREFIXES:
        if number.startswith(prefix):
            return country
    return ""


def _valid_sender(sender: str) -> bool:
    return bool(_E164.match(sender) or _SHORT_CODE.match(sender) or _ALPHANUMERIC_ID.match(sender))


class FakeTwilio:
    """An in-process Twilio Messaging API for one account.

    Recorded traffic (``created``, ``requests``, ``deleted``) and the stored
    ``messages`` are plain attributes so tests can assert on them directly.
    """

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        # Form fields of each accepted create, in order. A repeated field
        # (several MediaUrl) keeps its last value here; the resource counts all.
        self.created: list[dict[str, str]] = []
        # (method, path) of every request that reached the server.
        self.requests: list[tuple[str, str]] = []
        # SIDs successfully deleted, in order.
        self.deleted: list[str] = []
        # Media SIDs successfully deleted, in order.
        self.deleted_media: list[str] = []
        # The stored Media resources of each message: message SID -> media SID -> resource.
        self.media: dict[str, dict[str, dict[str, Any]]] = {}
        # The stored Message resources, keyed by SID, exactly as served.
        self.messages: dict[str, dict[str, Any]] = {}
        # Recipients who texted STOP: creating a message to them gives 21610.
        self.opted_out: set[str] = set()
        self._status_callbacks: dict[str, str] = {}
        self._failures: deque[_Failure] = deque()
        self._stalls = 0
        self._stalled = 0
        # Notified whenever a request starts stalling, so tests can wait for
        # "the request is now hanging" without polling.
        self._stall_changed = asyncio.Condition()
        # Stalled requests wait on this; close() sets it so nothing is left
        # hanging and no timer is needed.
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> None:
        """Serve the API on an ephemeral port of 127.0.0.1."""
        if self._runner is not None:
            raise RuntimeError("FakeTwilio is already started")
        app = web.Application()
        # One catch-all route: every request is recorded and subject to the
        # injected failures before routing, like an outage in front of the API.
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self._runner = runner
        self._base_url = f"http://{host}:{port}"

    async def close(self) -> None:
        """Release stalled requests and stop the server; safe to call twice."""
        self._closing.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeTwilio:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """Origin to assign to ``client.api.base_url``, e.g. ``http://127.0.0.1:PORT``."""
        if self._base_url is None:
            raise RuntimeError("FakeTwilio is not started")
        return self._base_url

    # -- test controls -----------------------------------------------------

    def fail_next(
        self,
        status: int,
        code: int,
        times: int = 1,
        message: str = "Service unavailable",
    ) -> None:
        """Answer the next ``times`` requests with ``status`` and Twilio ``code``."""
        self._failures.extend(_Failure(status, code, message) for _ in range(times))

    def stall_next(self, times: int = 1) -> None:
        """Leave the next ``times`` requests unanswered until ``close()``."""
        self._stalls += times

    async def stalled(self, count: int = 1) -> None:
        """Wait until ``count`` requests in total have been stalled by stall_next."""
        async with self._stall_changed:
            await self._stall_changed.wait_for(lambda: self._stalled >= count)

    def set_status(self, sid: str, status: str, *, error_code: int | None = None) -> None:
        """Move message ``sid`` to ``status`` as Twilio's pipeline would.

        failed/undelivered carry an error code (30008/30003 unless given).
        """
        message = self.messages[sid]
        now = _rfc2822(_now())
        message["status"] = status
        message["date_updated"] = now
        if status in _LEFT_TWILIO and message["date_sent"] is None:
            message["date_sent"] = now
        if status in _FAILED:
            code = error_code if error_code is not None else _DEFAULT_ERROR[status]
            message["error_code"] = code
            message["error_message"] = _ERROR_MESSAGES.get(code)
        else:
            message["error_code"] = None
            message["error_message"] = None

    def add_inbound(self, from_number: str, to_number: str, body: str, media_types: tuple[str, ...] = ()) -> str:
        """Store a received SMS (inbound, status "received") with one Media per content type; return its SID."""
        sid = self._new_sid("MM" if media_types else "SM")
        now = _rfc2822(_now())
        self.messages[sid] = self._resource(
            sid,
            to=to_number,
            from_=from_number,
            body=body,
            messaging_service_sid=None,
            num_media=len(media_types),
            num_segments=_num_segments(body),
            direction="inbound",
            status="received",
            created=now,
            sent=now,
        )
        self.media[sid] = {}
        for content_type in media_types:
            media_sid = self._new_sid("ME")
            self.media[sid][media_sid] = self._media_resource(sid, media_sid, content_type, now)
        return sid

    def inbound_sms_params(
        self, from_number: str, to_number: str, body: str, media_types: tuple[str, ...] = ()
    ) -> dict[str, str]:
        """Form fields Twilio POSTs to an SMS webhook for a new inbound message.

        The message is registered with ``add_inbound`` so a later DELETE of its
        SID succeeds. Twilio sends empty strings for geography it does not know.
        Each media item adds ``MediaUrl{i}`` and ``MediaContentType{i}``.
        """
        sid = self.add_inbound(from_number, to_number, body, media_types)
        media = {}
        for index, (media_sid, resource) in enumerate(self.media[sid].items()):
            media[f"MediaUrl{index}"] = (
                f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}/Media/{media_sid}"
            )
            media[f"MediaContentType{index}"] = resource["content_type"]
        return media | {
            "ToCountry": _country(to_number),
            "ToState": "",
            "SmsMessageSid": sid,
            "NumMedia": str(len(media_types)),
            "ToCity": "",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": _country(from_number),
            "To": to_number,
            "ToZip": "",
            "NumSegments": str(_num_segments(body)),
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_number,
            "ApiVersion": API_VERSION,
        }

    def sign(self, url: str, params: dict[str, str]) -> str:
        """The ``X-Twilio-Signature`` Twilio sends with ``params`` POSTed to ``url``."""
        return str(RequestValidator(self.auth_token).compute_signature(url, params))

    async def send_status_callback(
        self,
        session: aiohttp.ClientSession,
        sid: str,
        status: str,
        url: str | None = None,
        *,
        error_code: int | None = None,
    ) -> int:
        """Move ``sid`` to ``status`` and POST Twilio's signed status callback for it.

        ``url`` defaults to the StatusCallback given at create time. Returns the
        HTTP status the receiving server answered.
        """
        target = url if url is not None else self._status_callbacks.get(sid)
        if target is None:
            raise ValueError(f"no StatusCallback URL for {sid}")
        self.set_status(sid, status, error_code=error_code)
        message = self.messages[sid]
        params = {
            "SmsSid": sid,
            "SmsStatus": status,
            "MessageStatus": status,
            "To": message["to"],
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": message["from"] or "",
            "ApiVersion": API_VERSION,
        }
        if message["messaging_service_sid"] is not None:
            params["MessagingServiceSid"] = message["messaging_service_sid"]
        if status in _FAILED:
            params["ErrorCode"] = str(message["error_code"])
        if status in ("delivered", "undelivered"):
            # The carrier's delivery-receipt time, as YYMMDDhhmm.
            params["RawDlrDoneDate"] = _now().strftime("%y%m%d%H%M")
        headers = {
            "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": secrets.token_hex(16),
            "X-Twilio-Signature": self.sign(target, params),
        }
        async with session.post(target, data=urlencode(params), headers=headers) as response:
            await response.read()
            return response.status

    # -- HTTP handling -----------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:  # noqa: PLR0911 - one answer per route
        self.requests.append((request.method, request.path))
        if self._stalls > 0:
            self._stalls -= 1
            async with self._stall_changed:
                self._stalled += 1
                self._stall_changed.notify_all()
            await self._closing.wait()
            # Only reached at close(): the client has normally given up by now.
            return self._error(503, 20503, "Service unavailable")
        if self._failures:
            failure = self._failures.popleft()
            return self._error(failure.status, failure.code, failure.message)
        if not self._authenticated(request):
            response = self._error(401, 20003, "Authenticate")
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return response

        if match := _MESSAGES_PATH.match(request.path):
            if match["account"] != self.account_sid:
                return self._not_found(request.path)
            if request.method == "GET":
                return self._list(request)
            if request.method != "POST":
                return self._method_not_allowed()
            return await self._create(request)
        if match := _MESSAGE_PATH.match(request.path):
            if match["account"] != self.account_sid:
                return self._not_found(request.path)
            if request.method == "GET":
                return self._fetch(request.path, match["sid"])
            if request.method == "DELETE":
                return self._delete(request.path, match["sid"])
            return self._method_not_allowed()
        return self._dispatch_media(request)

    def _dispatch_media(self, request: web.Request) -> web.Response:  # noqa: PLR0911 - one answer per route
        if match := _MEDIA_LIST_PATH.match(request.path):
            if match["account"] != self.account_sid or match["sid"] not in self.media:
                return self._not_found(request.path)
            if request.method != "GET":
                return self._method_not_allowed()
            return self._media_list(request.path, match["sid"])
        if match := _MEDIA_PATH.match(request.path):
            found = self.media.get(match["sid"], {}).get(match["media"])
            if match["account"] != self.account_sid or found is None:
                return self._not_found(request.path)
            if request.method == "GET":
                return self._json(200, found)
            if request.method == "DELETE":
                del self.media[match["sid"]][match["media"]]
                self.deleted_media.append(match["media"])
                return web.Response(status=204, headers=self._headers())
            return self._method_not_allowed()
        return self._not_found(request.path)

    def _list(self, request: web.Request) -> web.Response:
        """One page of the Message list, newest first, with Twilio's filters and paging fields."""
        query = request.query
        try:
            page_size = int(query.get("PageSize", "50"))
            page = int(query.get("Page", "0"))
            sent_filters = [
                (op, _sent_bound(query[name])) for name, op in _SENT_FILTERS.items() if query.get(name, "") != ""
            ]
        except ValueError:
            return self._error(400, 20001, "Invalid filter or paging parameter")
        if not 1 <= page_size <= 1000 or page < 0:
            return self._error(400, 20001, "Invalid paging parameter")
        found = [
            message
            for message in reversed(self.messages.values())  # newest created first among equal dates
            if query.get("To", message["to"]) == message["to"]
            and query.get("From", message["from"]) == message["from"]
            and all(_sent_matches(message["date_sent"], op, bound) for op, bound in sent_filters)
        ]
        found.sort(key=lambda message: parsedate_to_datetime(message["date_created"]), reverse=True)
        start = page * page_size
        items = found[start : start + page_size]
        filters = [(name, query[name]) for name in ("To", "From", *_SENT_FILTERS) if name in query]

        def page_uri(number: int) -> str:
            paging = [("PageSize", str(page_size)), ("Page", str(number))]
            if number > 0:
                paging.append(("PageToken", f"PA{number * page_size}"))
            return f"{request.path}?{urlencode(filters + paging)}"

        more = start + page_size < len(found)
        payload = {
            "messages": items,
            "end": start + max(len(items) - 1, 0),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if more else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "start": start,
            "uri": page_uri(page),
        }
        return self._json(200, payload)

    def _media_list(self, path: str, sid: str) -> web.Response:
        items = list(self.media[sid].values())
        page = {
            "media_list": items,
            "end": max(len(items) - 1, 0),
            "first_page_uri": f"{path}?PageSize=50&Page=0",
            "next_page_uri": None,
            "page": 0,
            "page_size": 50,
            "previous_page_uri": None,
            "start": 0,
            "uri": f"{path}?PageSize=50&Page=0",
        }
        return self._json(200, page)

    def _authenticated(self, request: web.Request) -> bool:
        # Parsed by hand rather than with aiohttp.BasicAuth, which aiohttp
        # deprecates (and will drop in 4.0).
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except ValueError:  # binascii.Error and UnicodeDecodeError included
            return False
        login, colon, password = decoded.partition(":")
        # Constant-time comparisons, as any credential check should be; both
        # run so the timing does not reveal which half was wrong.
        login_ok = hmac.compare_digest(login.encode(), self.account_sid.encode())
        password_ok = hmac.compare_digest(password.encode(), self.auth_token.encode())
        return bool(colon) and login_ok and password_ok

    async def _create(self, request: web.Request) -> web.Response:  # noqa: PLR0911 - one answer per Twilio check
        form = await request.post()
        fields = {key: str(value) for key, value in form.items()}
        media_urls = [str(url) for url in form.getall("MediaUrl", [])]
        to = fields.get("To", "")
        sender = fields.get("From", "")
        service = fields.get("MessagingServiceSid", "")
        body = fields.get("Body", "")

        if not to:
            return self._error(400, 21604, "A 'To' phone number is required.")
        if not _E164.match(to):
            return self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not sender and not service:
            return self._error(400, 21603, "A 'From' phone number is required.")
        if sender and not _valid_sender(sender):
            return self._error(
                400,
                21212,
                f"The 'From' number {sender} is not a valid phone number, shortcode, or alphanumeric sender ID.",
            )
        if not body and not media_urls:
            return self._error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return self._error(
                400,
                21617,
                "The concatenated message body exceeds the 1600 character limit.",
            )
        if to in self.opted_out:
            return self._error(400, 21610, "Attempt to send to unsubscribed recipient")

        sid = self._new_sid("MM" if media_urls else "SM")
        # Without a From, a Messaging Service picks the sender later: Twilio
        # answers "accepted", a null from and zero segments until then.
        pooled = not sender
        resource = self._resource(
            sid,
            to=to,
            from_=sender or None,
            body=body,
            messaging_service_sid=service or None,
            num_media=len(media_urls),
            num_segments=0 if pooled else _num_segments(body),
            direction="outbound-api",
            status="accepted" if pooled else "queued",
            created=_rfc2822(_now()),
            sent=None,
        )
        self.messages[sid] = resource
        if "StatusCallback" in fields:
            self._status_callbacks[sid] = fields["StatusCallback"]
        self.created.append(fields)
        return self._json(201, resource)

    def _fetch(self, path: str, sid: str) -> web.Response:
        message = self.messages.get(sid)
        if message is None:
            return self._not_found(path)
        return self._json(200, message)

    def _delete(self, path: str, sid: str) -> web.Response:
        message = self.messages.get(sid)
        if message is None:
            return self._not_found(path)
        if message["status"] in _IN_PROGRESS:
            return self._error(409, 20009, "Cannot delete this resource before it is complete")
        del self.messages[sid]
        self._status_callbacks.pop(sid, None)
        self.deleted.append(sid)
        return web.Response(status=204, headers=self._headers())

    # -- resource and response shapes -------------------------------------

    def _resource(
        self,
        sid: str,
        *,
        to: str,
        from_: str | None,
        body: str,
        messaging_service_sid: str | None,
        num_media: int,
        num_segments: int,
        direction: str,
        status: str,
        created: str,
        sent: str | None,
    ) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": created,
            "date_sent": sent,
            "date_updated": created,
            "direction": direction,
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": messaging_service_sid,
            "num_media": str(num_media),
            "num_segments": str(num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": status,
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": to,
            "uri": f"{uri}.json",
        }

    def _media_resource(self, sid: str, media_sid: str, content_type: str, created: str) -> dict[str, Any]:
        return {
            "account_sid": self.account_sid,
            "content_type": content_type,
            "date_created": created,
            "date_updated": created,
            "parent_sid": sid,
            "sid": media_sid,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}/Media/{media_sid}.json",
        }

    def _new_sid(self, prefix: str) -> str:
        while True:
            sid = prefix + secrets.token_hex(16)
            if sid not in self.messages and sid not in self.deleted:
                return sid

    @staticmethod
    def _headers() -> dict[str, str]:
        # Every Twilio API response carries a request id.
        return {"Twilio-Request-Id": "RQ" + secrets.token_hex(16)}

    def _json(self, status: int, payload: dict[str, Any]) -> web.Response:
        return web.json_response(payload, status=status, headers=self._headers())

    def _error(self, status: int, code: int, message: str) -> web.Response:
        return self._json(
            status,
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
        )

    def _not_found(self, path: str) -> web.Response:
        return self._error(404, 20404, f"The requested resource {path} was not found")

    def _method_not_allowed(self) -> web.Response:
        return self._error(405, 20004, "Method not allowed")
