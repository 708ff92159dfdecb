"""Reading a Twilio webhook: the form body, checked against ``X-Twilio-Signature`` before anything else.

Twilio signs the full URL it called plus the sorted form parameters with HMAC under the auth token. We
check against ``sms.public_base_url`` + the raw path and query, because behind a proxy the URL the
server sees is not the one Twilio called. Anything that fails closes the door: 403, nothing stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from urllib.parse import unquote, urlparse

from aiohttp import web
from multidict import MultiDict
from twilio.request_validator import add_port, get_signature_algorithm, remove_port

from helpline.errors import Forbidden, InvalidInput

FORM = "application/x-www-form-urlencoded"
# URL forms remembered: the webhook paths (more only if someone spells a path oddly; those are not kept).
MAX_REMEMBERED_URLS = 8
# The algorithms X-Twilio-Webhooks-Signature-Settings may name; without the header, HMAC_SHA1.
_DIGESTS: dict[str, Callable[[], hashlib._Hash]] = {"HMAC_SHA1": hashlib.sha1, "HMAC_SHA256": hashlib.sha256}


class SignedForms:
    """Verifies Twilio's webhook signatures for one account."""

    def __init__(self, auth_token: str, public_base_url: str) -> None:
        self._token = auth_token.encode("utf-8")
        self._base = public_base_url.rstrip("/")
        self._forms: dict[str, tuple[str, str]] = {}

    def url_for(self, raw_path: str) -> str:
        """The URL Twilio signs for a request to ``raw_path``."""
        return self._base + raw_path

    async def read(self, request: web.Request) -> MultiDict[str]:
        """The webhook's form fields, once its signature has been verified."""
        signature = request.headers.get("X-Twilio-Signature")
        if not signature or not self._token:
            raise Forbidden("The webhook signature is missing or wrong.")
        if request.content_type != FORM:
            raise InvalidInput("A webhook must be a form (application/x-www-form-urlencoded).")
        raw = await request.read()
        try:
            pairs = form_pairs(raw.decode("ascii"))
        except UnicodeDecodeError:
            raise InvalidInput("The webhook body is not valid UTF-8.") from None
        params: MultiDict[str] = MultiDict(pairs)
        algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
        if not self.valid(self.url_for(request.raw_path), params, signature, algorithm):
            raise Forbidden("The webhook signature is missing or wrong.")
        return params

    def valid(self, url: str, params: MultiDict[str], signature: str, algorithm: str) -> bool:
        """Twilio's check (``twilio.request_validator``), with the parameters joined once for both URL forms.

        The signed text is the URL followed by each parameter's name and value, names sorted, a repeated
        name's values sorted; the URL is tried without and with its port, as Twilio signs either.
        """
        digest = _DIGESTS.get(algorithm.upper())
        if digest is None:
            return False  # an algorithm we do not know: refused, never guessed
        joined = "".join(name + value for name in sorted(set(params)) for value in sorted(set(params.getall(name))))
        expected = signature.encode("utf-8")
        found = False
        for form in self._url_forms(url):
            mac = hmac.new(self._token, (form + joined).encode("utf-8"), digest).digest()
            found |= hmac.compare_digest(base64.b64encode(mac), expected)
        return found

    def _url_forms(self, url: str) -> tuple[str, str]:
        """The URL without and with its port; remembered for the webhook URLs without a query (always the same)."""
        forms = self._forms.get(url)
        if forms is None:
            parsed = urlparse(url)
            forms = (remove_port(parsed), add_port(parsed))
            if not parsed.query and len(self._forms) < MAX_REMEMBERED_URLS:
                self._forms[url] = forms
        return forms


def form_pairs(body: str) -> list[tuple[str, str]]:
    """A form body's fields, in order: ``urllib.parse.parse_qsl(body, keep_blank_values=True, errors="strict")``.

    The same result, with the decoding skipped for the parts that need none (most of a webhook's).
    """
    pairs = []
    for field in body.split("&"):
        if field:
            name, _, value = field.partition("=")
            pairs.append((_decoded(name), _decoded(value)))
    return pairs


def _decoded(part: str) -> str:
    if "+" in part:
        part = part.replace("+", " ")
    return unquote(part, errors="strict") if "%" in part else part


def single(params: MultiDict[str], name: str) -> str | None:
    """A field that must appear at most once; a repeated field is refused rather than guessed at."""
    values = params.getall(name, [])
    if len(values) > 1:
        raise InvalidInput(f"The webhook field {name} appears more than once.")
    return values[0] if values else None
