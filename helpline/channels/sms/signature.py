"""Reading a Twilio webhook: the form body, checked against ``X-Twilio-Signature`` before anything else.

Twilio signs the full URL it called plus the sorted form parameters with HMAC under the auth token. We
check against ``sms.public_base_url`` + the raw path and query, because behind a proxy the URL the
server sees is not the one Twilio called. Anything that fails closes the door: 403, nothing stored.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from aiohttp import web
from multidict import MultiDict
from twilio.request_validator import RequestValidator, get_signature_algorithm

from helpline.errors import Forbidden, InvalidInput

FORM = "application/x-www-form-urlencoded"


class SignedForms:
    """Verifies Twilio's webhook signatures for one account."""

    def __init__(self, auth_token: str, public_base_url: str) -> None:
        self._validator = RequestValidator(auth_token) if auth_token else None
        self._base = public_base_url.rstrip("/")

    def url_for(self, raw_path: str) -> str:
        """The URL Twilio signs for a request to ``raw_path``."""
        return self._base + raw_path

    async def read(self, request: web.Request) -> MultiDict[str]:
        """The webhook's form fields, once its signature has been verified."""
        signature = request.headers.get("X-Twilio-Signature")
        if not signature or self._validator is None:
            raise Forbidden("The webhook signature is missing or wrong.")
        if request.content_type != FORM:
            raise InvalidInput("A webhook must be a form (application/x-www-form-urlencoded).")
        raw = await request.read()
        try:
            pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            raise InvalidInput("The webhook body is not valid UTF-8.") from None
        params: MultiDict[str] = MultiDict(pairs)
        algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
        if not self._validator.validate(self.url_for(request.raw_path), params, signature, algorithm):
            raise Forbidden("The webhook signature is missing or wrong.")
        return params


def single(params: MultiDict[str], name: str) -> str | None:
    """A field that must appear at most once; a repeated field is refused rather than guessed at."""
    values = params.getall(name, [])
    if len(values) > 1:
        raise InvalidInput(f"The webhook field {name} appears more than once.")
    return values[0] if values else None
