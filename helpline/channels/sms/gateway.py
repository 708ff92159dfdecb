"""Sending SMS through Twilio's REST API with the twilio SDK's async client.

The SDK's ``AsyncTwilioHttpClient`` is subclassed for two reasons: its ``timeout`` setting never reaches
aiohttp (a stalled API call would hang the worker), and it authenticates with aiohttp's deprecated
``BasicAuth``. The subclass also logs nothing: the SDK's own request logging prints URLs and parameters.

Twilio's error *messages* can contain the phone number, so only status and code travel onward, and
every provider exception is raised ``from None`` so its text cannot reach a traceback.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from helpline.errors import PermanentProviderError, TransientProviderError, UnconfirmedSendError

# How far Twilio's clock may be behind ours when a sent message is looked for.
CLOCK_SKEW = timedelta(minutes=2)
# Messages to one number read at most before the answer is "cannot say", and how many per page.
LOOKUP_MAX_MESSAGES = 500
LOOKUP_PAGE = 50


class _TwilioHttp(AsyncTwilioHttpClient):
    """The SDK's async HTTP client on our own session, with a real timeout and no logging."""

    def __init__(self, session: aiohttp.ClientSession, timeout: float) -> None:
        super().__init__(pool_connections=False, timeout=timeout)
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 5.0))

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the SDK's signature; our timeout is set at construction
        allow_redirects: bool = False,
    ) -> Response:
        sent_headers = dict(headers or {})
        if auth is not None:
            credentials = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            sent_headers["Authorization"] = f"Basic {credentials}"
        request_args: dict[str, Any] = {"params": params, "data": data, "headers": sent_headers}
        async with self._session.request(
            method.upper(), url, timeout=self._timeout, allow_redirects=allow_redirects, **request_args
        ) as response:
            text = await response.text()
            return Response(response.status, text, response.headers)

    async def close(self) -> None:
        """The session belongs to the sender, which closes it."""


class TwilioSender:
    """Implements ``core.ports.Sender`` for SMS."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base_url: str,
        status_callback_base: str,
        timeout: float,
    ) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._from = from_number
        self._api_base_url = api_base_url.rstrip("/")
        self._callback_base = status_callback_base.rstrip("/")
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._client: Client | None = None

    @property
    def configured(self) -> bool:
        return bool(self._account_sid and self._auth_token and self._from)

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        # A non-empty environment: the SDK falls back to os.environ when given an empty one.
        self._client = Client(
            self._account_sid or "unset",
            self._auth_token or "unset",
            http_client=_TwilioHttp(self._session, self._timeout),
            environment={"TWILIO_EDGE": "", "TWILIO_REGION": ""},
        )
        self._client.api.base_url = self._api_base_url

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, address: str, body: str, ref: str) -> str:
        if not self.configured:
            raise PermanentProviderError("sms_not_configured")
        if self._client is None:
            raise TransientProviderError("not_started")
        try:
            message = await self._client.messages.create_async(
                to=address,
                from_=self._from,
                body=body,
                status_callback=f"{self._callback_base}/webhooks/twilio/status?ref={ref}",
            )
        except TwilioRestException as exc:
            code = str(exc.code or exc.status)
            if exc.status >= 500 or exc.status in (401, 429):
                raise TransientProviderError(code, status=exc.status) from None
            raise PermanentProviderError(code, status=exc.status) from None
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError):
            # The request never reached Twilio: safe to send again.
            raise TransientProviderError("connect") from None
        except (TimeoutError, aiohttp.ClientError):
            # It may have reached Twilio: the status callback will tell.
            raise UnconfirmedSendError("no_answer") from None
        return str(message.sid)

    async def find_sent(self, address: str, body: str, since: datetime) -> str | None:
        """The sid of a message we sent ``address`` with ``body``, created since ``since``; None if there is none.

        Implements ``core.ports.SentLookup``. Twilio's Message resource holds no reference of ours (the status
        callback URL that carries the outbox id is not part of it), so a send is recognised by what it was:
        to this number, from ours, outbound, this exact text, created at Twilio no earlier than the reply was
        written (less ``CLOCK_SKEW``). The list is read filtered by ``To`` only, newest first, until a whole
        page of older messages has gone by (so a list not strictly in creation order is still read far enough):
        a ``DateSent`` filter would miss a message Twilio has accepted but not yet sent, whose ``date_sent`` is
        still null — exactly the one that must not be sent again. The list is short, since each message's
        record is deleted at Twilio once final. More than ``LOOKUP_MAX_MESSAGES`` read, or any failure,
        raises: then nobody can say, and nothing is sent.
        """
        if not self.configured:
            return None  # nothing is ever sent without the account
        if self._client is None:
            raise TransientProviderError("not_started")
        earliest = since - CLOCK_SKEW
        found: str | None = None
        try:
            seen = older = 0
            async for message in await self._client.messages.stream_async(to=address, page_size=LOOKUP_PAGE):
                seen += 1
                if seen > LOOKUP_MAX_MESSAGES:
                    raise TransientProviderError("lookup_too_many")
                created = message.date_created
                if created is not None and created < earliest:
                    older += 1
                    if older >= LOOKUP_PAGE:
                        return found
                    continue
                older = 0
                outbound = str(message.direction or "").startswith("outbound")
                if outbound and message.from_ == self._from and message.body == body:
                    found = str(message.sid)  # the list is newest first: the last one kept is the first sent
        except TwilioRestException as exc:
            raise TransientProviderError(str(exc.code or exc.status), status=exc.status) from None
        except TwilioException as exc:
            status, code = _page_failure(exc)
            raise TransientProviderError(str(code or status), status=status) from None
        except (TimeoutError, aiohttp.ClientError):
            raise TransientProviderError("connect") from None
        return found

    async def delete(self, provider_id: str, *, inbound: bool) -> None:
        """Delete a message's record at Twilio — an inbound one's media first — so Twilio no longer holds it.

        Implements ``core.ports.ProviderRecords``. A record already gone (404) counts as deleted; 20009 (the
        message is still in progress at Twilio) and outages are transient; other refusals are permanent.
        """
        if not self.configured:
            raise PermanentProviderError("sms_not_configured")
        if self._client is None:
            raise TransientProviderError("not_started")
        message = self._client.messages(provider_id)
        try:
            if inbound:
                for media in await message.media.list_async(page_size=50):
                    await message.media(media.sid).delete_async()
            await message.delete_async()
        except TwilioRestException as exc:
            status, code = exc.status, exc.code
        except TwilioException as exc:
            status, code = _page_failure(exc)
        except (TimeoutError, aiohttp.ClientError):
            raise TransientProviderError("connect") from None
        else:
            return
        if status == 404:
            return
        if code == 20009 or status >= 500 or status in (401, 409, 429):
            raise TransientProviderError(str(code or status), status=status)
        raise PermanentProviderError(str(code or status), status=status)


def _page_failure(exc: TwilioException) -> tuple[int, int | None]:
    """The HTTP status and Twilio error code of a list page the SDK could not fetch (it raises the bare
    ``TwilioException`` with the response attached, not a ``TwilioRestException``)."""
    response = exc.args[1] if len(exc.args) > 1 else None
    if not isinstance(response, Response):
        return 500, None
    try:
        code = json.loads(response.text).get("code")
    except (ValueError, AttributeError):
        code = None
    return int(response.status_code), code if isinstance(code, int) else None
