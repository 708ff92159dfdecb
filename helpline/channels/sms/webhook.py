"""Twilio's webhooks: an inbound SMS, and the delivery status of one we sent.

The inbound webhook is answered (with empty TwiML) only after the message is committed to the intake
(``core/intake.py``), which routes it into its conversation moments later: if we fail, Twilio retries, and
the idempotency key makes the retry harmless.
"""

from __future__ import annotations

import re

from aiohttp import web

from helpline.channels.sms.signature import SignedForms, single
from helpline.core.delivery import Delivery
from helpline.core.intake import Intake
from helpline.core.models import Inbound
from helpline.errors import InvalidInput
from helpline.log import get_logger

log = get_logger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
_ADDRESS = re.compile(r"^\+?[0-9A-Za-z]{2,20}$")
_REF = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_STATUS = re.compile(r"^[a-z_-]{2,32}$")
# ASCII digits only: str.isdigit() is also true of "²", which int() then refuses.
_COUNT = re.compile(r"^[0-9]{1,2}$")
_CODE = re.compile(r"^[0-9]{1,9}$")


def normalise_sender(raw: str) -> str:
    """The sender as routing sees it: E.164 digits with '+', or an alphanumeric sender id, no spaces."""
    address = re.sub(r"[\s().-]", "", raw)
    if not _ADDRESS.match(address):
        raise InvalidInput("The webhook field From is not a phone number or sender id.")
    return address


class SmsWebhooks:
    """The two Twilio webhook handlers."""

    def __init__(
        self,
        forms: SignedForms,
        intake: Intake,
        delivery: Delivery,
        *,
        max_body_chars: int,
        delete_provider_records: bool = False,
    ) -> None:
        self._forms = forms
        self._intake = intake
        self._delivery = delivery
        self._max_body_chars = max_body_chars
        self._delete_provider_records = delete_provider_records

    async def inbound(self, request: web.Request) -> web.Response:
        params = await self._forms.read(request)
        sender = single(params, "From")
        sid = single(params, "MessageSid") or single(params, "SmsSid")
        body = single(params, "Body")
        if not sender or not sid or body is None:
            raise InvalidInput("The webhook needs From, MessageSid and Body.")
        if not _SID.match(sid):
            raise InvalidInput("The webhook field MessageSid is not a Twilio message id.")
        if len(body) > self._max_body_chars:
            raise InvalidInput(f"The message is longer than {self._max_body_chars} characters.")
        media = single(params, "NumMedia") or "0"
        if not _COUNT.match(media):
            raise InvalidInput("The webhook field NumMedia is not a count.")
        if int(media) > 0:
            # Media is never downloaded (and is deleted at Twilio with the message); the volunteer is told it came.
            body = f"{body}\n[{media} attachment(s) not shown: the helpline does not download pictures or files]"
        inbound = Inbound("sms", normalise_sender(sender), sid, body, delete_at_provider=self._delete_provider_records)
        if not await self._intake.accept(inbound):
            # A redelivery: answered like the first, stored once. (A fresh one is logged when it is routed.)
            log.info("sms.duplicate")
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    async def status(self, request: web.Request) -> web.Response:
        params = await self._forms.read(request)
        status = single(params, "MessageStatus") or single(params, "SmsStatus")
        if not status or not _STATUS.match(status):
            raise InvalidInput("The status callback needs a MessageStatus.")
        error_code = single(params, "ErrorCode")
        if error_code is not None and not _CODE.match(error_code):
            raise InvalidInput("The status callback field ErrorCode is not a number.")
        ref = request.query.get("ref", "")
        if not _REF.match(ref):
            # Not one of ours (e.g. sent from Twilio's console): acknowledge and ignore.
            log.info("sms.status", known=False)
            return web.Response(text=EMPTY_TWIML, content_type="text/xml")
        known = await self._delivery.status_callback(ref, status, error_code)
        log.info("sms.status", outbox_id=ref, status=status, known=known)
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")
