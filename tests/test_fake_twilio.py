"""Checks FakeTwilio against the real twilio SDK's async client.

The project's tests trust the fake to behave like Twilio, so these tests drive
it through ``twilio.rest.Client`` exactly as the project does and assert what
the SDK sees: resources, ``TwilioRestException`` codes, signatures, timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from twilio.base.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    TwilioRestException,
)
from twilio.http.async_http_client import (  # type: ignore[import-untyped, unused-ignore]
    AsyncTwilioHttpClient,
)
from twilio.request_validator import (  # type: ignore[import-untyped, unused-ignore]
    RequestValidator,
)
from twilio.rest import Client  # type: ignore[import-untyped, unused-ignore]

from helpline.testing.twilio_api import FakeTwilio

# twilio 9.13's AsyncTwilioHttpClient authenticates with aiohttp.BasicAuth and
# the session's ``auth=`` argument, both deprecated by aiohttp 3.14. Only these
# two messages are tolerated so every other warning still fails the run.
pytestmark = [
    pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The 'auth' parameter is deprecated:DeprecationWarning"),
]

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-auth-token-for-tests"
HELPLINE = "+447700900001"
TEXTER = "+447700900123"

ClientFactory = Callable[..., Any]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as server:
        yield server


@pytest.fixture
async def make_client(fake: FakeTwilio) -> AsyncIterator[ClientFactory]:
    """Build SDK clients the way the project does, closing their sessions after."""
    http_clients: list[Any] = []

    def factory(
        auth_token: str = AUTH_TOKEN,
        *,
        account_sid: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        http_client = AsyncTwilioHttpClient(timeout=timeout)
        http_clients.append(http_client)
        client = Client(
            ACCOUNT_SID,
            auth_token,
            account_sid=account_sid,
            http_client=http_client,
            environment={"TWILIO_EDGE": "", "TWILIO_REGION": ""},
        )
        client.api.base_url = fake.base_url
        return client

    yield factory
    for http_client in http_clients:
        await http_client.close()


@pytest.fixture
async def client(make_client: ClientFactory) -> Any:
    return make_client()


class _Receiver:
    """A stand-in for the project's webhook endpoint that records each POST."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], dict[str, str]]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.posts.append(({key: str(value) for key, value in form.items()}, dict(request.headers)))
        return web.Response(content_type="text/xml", text="<Response/>")


@pytest.fixture
async def receiver() -> AsyncIterator[_Receiver]:
    target = _Receiver()
    app = web.Application()
    app.router.add_post("/twilio/status", target.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    target.url = f"http://{host}:{port}/twilio/status"
    yield target
    await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


async def _send(client: Any, **kwargs: Any) -> Any:
    fields: dict[str, Any] = {"to": TEXTER, "from_": HELPLINE, "body": "Hello"}
    fields.update(kwargs)
    return await client.messages.create_async(**fields)


async def test_create_returns_sid_and_records_fields(client: Any, fake: FakeTwilio) -> None:
    """Creating through the SDK yields an SM sid and records To/From/Body."""
    message = await _send(client, status_callback="https://helpline.test/status")
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert message.status == "queued"
    assert fake.created == [
        {
            "To": TEXTER,
            "From": HELPLINE,
            "Body": "Hello",
            "StatusCallback": "https://helpline.test/status",
        }
    ]
    assert fake.requests == [("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")]


async def test_resource_is_shaped_like_twilio(client: Any, fake: FakeTwilio) -> None:
    """The stored resource has Twilio's keys and the SDK parses its dates."""
    message = await _send(client)
    resource = fake.messages[message.sid]
    uri = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{message.sid}"
    assert resource["uri"] == f"{uri}.json"
    assert resource["subresource_uris"] == {"media": f"{uri}/Media.json"}
    assert resource["api_version"] == "2010-04-01"
    assert resource["direction"] == "outbound-api"
    assert (resource["num_media"], resource["num_segments"]) == ("0", "1")
    assert (resource["price"], resource["price_unit"]) == (None, "USD")
    assert (resource["error_code"], resource["error_message"]) == (None, None)
    assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000", resource["date_created"])
    assert message.date_created is not None
    assert message.date_sent is None  # Twilio fills it once the SMS leaves
    assert message.account_sid == ACCOUNT_SID
    assert (message.to, message.from_, message.body) == (TEXTER, HELPLINE, "Hello")


async def test_bad_auth_raises_20003(make_client: ClientFactory) -> None:
    """A wrong auth token is rejected with HTTP 401 and Twilio code 20003."""
    client = make_client("wrong-token")
    with pytest.raises(TwilioRestException) as caught:
        await _send(client)
    assert (caught.value.status, caught.value.code) == (401, 20003)


async def test_other_account_path_gives_20404(make_client: ClientFactory, fake: FakeTwilio) -> None:
    """Valid credentials used on another account's URL give 404 code 20404."""
    client = make_client(account_sid="AC" + "f" * 32)
    with pytest.raises(TwilioRestException) as caught:
        await _send(client)
    assert (caught.value.status, caught.value.code) == (404, 20404)
    assert fake.created == []


async def test_opted_out_recipient_gives_21610(client: Any, fake: FakeTwilio) -> None:
    """Sending to a number that texted STOP fails with code 21610."""
    fake.opted_out.add(TEXTER)
    with pytest.raises(TwilioRestException) as caught:
        await _send(client)
    assert (caught.value.status, caught.value.code) == (400, 21610)
    assert fake.created == [] and fake.messages == {}


async def test_invalid_to_gives_21211(client: Any) -> None:
    """A To that is not an E.164 number fails with code 21211."""
    with pytest.raises(TwilioRestException) as caught:
        await _send(client, to="07700 900123")
    assert (caught.value.status, caught.value.code) == (400, 21211)
    assert "07700 900123" in caught.value.msg


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"from_": None}, 21603),
        ({"from_": "not a sender!"}, 21212),
        ({"body": None}, 21602),
        ({"body": "x" * 1601}, 21617),
    ],
)
async def test_create_validation_codes(client: Any, overrides: dict[str, Any], code: int) -> None:
    """Missing sender, bad sender, missing body and a long body give Twilio's codes."""
    with pytest.raises(TwilioRestException) as caught:
        await _send(client, **overrides)
    assert (caught.value.status, caught.value.code) == (400, code)


async def test_messaging_service_without_from_is_accepted(client: Any) -> None:
    """With only a MessagingServiceSid Twilio answers "accepted" and no sender yet."""
    service = "MG" + "1" * 32
    message = await _send(client, from_=None, messaging_service_sid=service)
    assert (message.status, message.from_) == ("accepted", None)
    assert message.messaging_service_sid == service


async def test_media_message_counts_media(client: Any, fake: FakeTwilio) -> None:
    """A media-only message is an MM resource counting every MediaUrl."""
    urls = ["https://helpline.test/a.png", "https://helpline.test/b.png"]
    message = await _send(client, body=None, media_url=urls)
    assert re.fullmatch(r"MM[0-9a-f]{32}", message.sid)
    assert message.num_media == "2"
    assert fake.created[0]["MediaUrl"] == urls[-1]


async def test_fail_next_gives_status_then_recovers(client: Any, fake: FakeTwilio) -> None:
    """fail_next(503) fails exactly the next request, then the API works again."""
    fake.fail_next(503, 20503)
    with pytest.raises(TwilioRestException) as caught:
        await _send(client)
    assert (caught.value.status, caught.value.code) == (503, 20503)
    assert fake.created == []
    message = await _send(client)
    assert message.sid in fake.messages


async def test_fail_next_times_and_rate_limit(client: Any, fake: FakeTwilio) -> None:
    """fail_next(times=2) fails two requests with the given status and code."""
    fake.fail_next(429, 20429, times=2, message="Too Many Requests")
    for _ in range(2):
        with pytest.raises(TwilioRestException) as caught:
            await _send(client)
        assert (caught.value.status, caught.value.code) == (429, 20429)
    assert (await _send(client)).status == "queued"


async def test_fetch_returns_current_status(client: Any, fake: FakeTwilio) -> None:
    """Fetching a message returns the resource, including status changes."""
    sent = await _send(client)
    fake.set_status(sent.sid, "delivered")
    fetched = await client.messages(sent.sid).fetch_async()
    assert (fetched.sid, fetched.status, fetched.body) == (
        sent.sid,
        "delivered",
        "Hello",
    )
    assert fetched.date_sent is not None


async def test_fetch_unknown_sid_gives_20404(client: Any) -> None:
    """Fetching a SID Twilio does not know gives 404 code 20404."""
    with pytest.raises(TwilioRestException) as caught:
        await client.messages("SM" + "0" * 32).fetch_async()
    assert (caught.value.status, caught.value.code) == (404, 20404)


async def test_delete_in_progress_gives_20009(client: Any, fake: FakeTwilio) -> None:
    """Deleting a queued message is refused with code 20009 and keeps it."""
    message = await _send(client)
    with pytest.raises(TwilioRestException) as caught:
        await client.messages(message.sid).delete_async()
    assert caught.value.code == 20009
    assert message.sid in fake.messages and fake.deleted == []


async def test_delete_after_delivery_is_recorded(client: Any, fake: FakeTwilio) -> None:
    """Once delivered a message deletes, is recorded, and is then gone."""
    message = await _send(client)
    fake.set_status(message.sid, "delivered")
    assert await client.messages(message.sid).delete_async() is True
    assert fake.deleted == [message.sid]
    assert message.sid not in fake.messages
    with pytest.raises(TwilioRestException) as caught:
        await client.messages(message.sid).delete_async()
    assert (caught.value.status, caught.value.code) == (404, 20404)


async def test_delete_inbound_message(client: Any, fake: FakeTwilio) -> None:
    """A received message registered with add_inbound can be deleted."""
    sid = fake.add_inbound(TEXTER, HELPLINE, "I need to talk")
    assert fake.messages[sid]["direction"] == "inbound"
    assert fake.messages[sid]["status"] == "received"
    assert await client.messages(sid).delete_async() is True
    assert fake.deleted == [sid]


async def test_status_callback_is_signed_like_twilio(
    client: Any,
    fake: FakeTwilio,
    receiver: _Receiver,
    session: aiohttp.ClientSession,
) -> None:
    """The status callback carries Twilio's fields and a signature the SDK accepts."""
    message = await _send(client, status_callback=receiver.url)
    status = await fake.send_status_callback(session, message.sid, "delivered", receiver.url)
    assert status == 200
    [(params, headers)] = receiver.posts
    assert params["MessageSid"] == params["SmsSid"] == message.sid
    assert params["MessageStatus"] == params["SmsStatus"] == "delivered"
    assert (params["To"], params["From"]) == (TEXTER, HELPLINE)
    assert params["AccountSid"] == ACCOUNT_SID
    assert params["ApiVersion"] == "2010-04-01"
    assert "ErrorCode" not in params
    signature = headers["X-Twilio-Signature"]
    assert RequestValidator(AUTH_TOKEN).validate(receiver.url, params, signature)
    assert not RequestValidator("another-token").validate(receiver.url, params, signature)
    assert fake.messages[message.sid]["status"] == "delivered"


async def test_failed_status_callback_carries_error_code(
    client: Any,
    fake: FakeTwilio,
    receiver: _Receiver,
    session: aiohttp.ClientSession,
) -> None:
    """An undelivered callback defaults to the StatusCallback URL and has ErrorCode."""
    message = await _send(client, status_callback=receiver.url)
    assert await fake.send_status_callback(session, message.sid, "undelivered") == 200
    [(params, headers)] = receiver.posts
    assert params["ErrorCode"] == "30003"
    assert RequestValidator(AUTH_TOKEN).validate(receiver.url, params, headers["X-Twilio-Signature"])
    fetched = await client.messages(message.sid).fetch_async()
    assert (fetched.status, fetched.error_code) == ("undelivered", 30003)


async def test_inbound_sms_params_are_signed_and_deletable(client: Any, fake: FakeTwilio) -> None:
    """Inbound webhook fields verify with the SDK and name a deletable message."""
    url = "https://helpline.test/twilio/sms"
    params = fake.inbound_sms_params(TEXTER, HELPLINE, "Is anyone there?")
    assert params["MessageSid"] == params["SmsSid"] == params["SmsMessageSid"]
    assert (params["From"], params["To"], params["Body"]) == (
        TEXTER,
        HELPLINE,
        "Is anyone there?",
    )
    assert (params["FromCountry"], params["ToCountry"]) == ("GB", "GB")
    assert (params["NumMedia"], params["NumSegments"]) == ("0", "1")
    assert params["SmsStatus"] == "received"
    assert "MessagingServiceSid" not in params
    assert RequestValidator(AUTH_TOKEN).validate(url, params, fake.sign(url, params))
    assert await client.messages(params["MessageSid"]).delete_async() is True
    assert fake.deleted == [params["MessageSid"]]


async def test_stall_next_times_out_the_caller(client: Any, fake: FakeTwilio) -> None:
    """A stalled request never answers, so a caller's timeout fires."""
    fake.stall_next()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await _send(client)
    await fake.stalled()  # returns at once: the request did reach the fake
    await fake.close()
    assert fake.requests == [("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")]
    assert fake.created == []


async def test_sdk_http_client_timeout_does_not_bound_requests(make_client: ClientFactory, fake: FakeTwilio) -> None:
    """AsyncTwilioHttpClient(timeout=...) is ignored by twilio 9.13, so wrap calls."""
    # AsyncTwilioHttpClient.request passes its per-call ``timeout`` argument
    # (always None from the SDK) to aiohttp instead of self.timeout, and None
    # means "no timeout at all". If this starts failing, the SDK was fixed.
    client = make_client(timeout=0.05)
    fake.stall_next()
    call = asyncio.ensure_future(_send(client))
    done, _ = await asyncio.wait({call}, timeout=0.3)
    assert not done
    call.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await call


async def test_close_releases_stalled_request_and_is_idempotent(
    session: aiohttp.ClientSession,
) -> None:
    """close() answers a stalled request instead of hanging, and can be repeated."""
    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)
    await fake.start()
    fake.stall_next()
    url = f"{fake.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    request = asyncio.ensure_future(session.get(url))
    async with asyncio.timeout(5):
        await fake.stalled()
    await fake.close()
    await fake.close()
    async with asyncio.timeout(5):
        response = await request
    assert response.status == 503
    response.release()


def test_base_url_requires_start() -> None:
    """base_url is only available once the server has started."""
    with pytest.raises(RuntimeError):
        _ = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).base_url


async def test_unknown_route_gives_twilio_404(fake: FakeTwilio, session: aiohttp.ClientSession) -> None:
    """Endpoints the fake does not implement answer Twilio's 404 JSON."""
    auth = aiohttp.encode_basic_auth(ACCOUNT_SID, AUTH_TOKEN)
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    async with session.get(fake.base_url + path, headers={"Authorization": auth}) as response:
        assert response.status == 404
        assert await response.json() == {
            "code": 20404,
            "message": f"The requested resource {path} was not found",
            "more_info": "https://www.twilio.com/docs/errors/20404",
            "status": 404,
        }


async def test_message_list_is_filtered_by_recipient_newest_first(client: Any, fake: FakeTwilio) -> None:
    """GET Messages.json through the SDK lists only the recipient's messages, the newest first."""
    sent = [await _send(client, body=f"reply {n}") for n in range(3)]
    await _send(client, to="+447700900999", body="someone else")
    listed = await client.messages.list_async(to=TEXTER)
    assert [m.sid for m in listed] == [m.sid for m in reversed(sent)]
    assert {m.body for m in listed} == {"reply 0", "reply 1", "reply 2"}


async def test_message_list_pages_like_twilio(client: Any, fake: FakeTwilio) -> None:
    """With PageSize 2, five messages come in three pages that the SDK follows by next_page_uri."""
    sent = [await _send(client, body=f"reply {n}") for n in range(5)]
    page = await client.messages.page_async(to=TEXTER, page_size=2)
    assert len(list(page._records)) == 2
    assert page._payload["next_page_uri"].endswith("PageSize=2&Page=1&PageToken=PA2")
    assert (page._payload["page"], page._payload["start"], page._payload["end"]) == (0, 0, 1)
    streamed = [m.sid async for m in await client.messages.stream_async(to=TEXTER, page_size=2)]
    assert streamed == [m.sid for m in reversed(sent)]
    last = fake.requests[-1]
    assert last[0] == "GET" and last[1].endswith("/Messages.json")


async def test_date_sent_filters_skip_messages_still_queued(client: Any, fake: FakeTwilio) -> None:
    """DateSent, DateSent< and DateSent> match date_sent, which a queued message does not have yet."""
    queued = await _send(client, body="still queued")
    left = await _send(client, body="left Twilio")
    fake.set_status(left.sid, "sent")
    moment = datetime.now(UTC)
    after = await client.messages.list_async(to=TEXTER, date_sent_after=moment - timedelta(minutes=1))
    assert [m.sid for m in after] == [left.sid]
    before = await client.messages.list_async(to=TEXTER, date_sent_before=moment - timedelta(minutes=1))
    assert before == []
    assert queued.sid not in {m.sid for m in await client.messages.list_async(date_sent=moment.replace(second=0))}


async def test_message_list_refuses_a_bad_filter_with_20001(fake: FakeTwilio, session: aiohttp.ClientSession) -> None:
    """A DateSent value Twilio cannot read answers 400 with code 20001."""
    auth = aiohttp.encode_basic_auth(ACCOUNT_SID, AUTH_TOKEN)
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json?DateSent%3E=yesterday"
    async with session.get(fake.base_url + path, headers={"Authorization": auth}) as response:
        assert response.status == 400
        assert (await response.json())["code"] == 20001
