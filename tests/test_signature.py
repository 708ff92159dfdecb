"""Our webhook signature check agrees with Twilio's own validator, for every form it accepts and refuses."""

from __future__ import annotations

from urllib.parse import parse_qsl

from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from helpline.channels.sms.signature import SignedForms, form_pairs

TOKEN = "12345678901234567890123456789012"
URLS = [
    "https://helpline.example.org/webhooks/twilio/sms",
    "https://helpline.example.org:443/webhooks/twilio/sms",
    "http://127.0.0.1:8080/webhooks/twilio/status?ref=abcdefghijklmnop",
]
text = st.text(st.characters(codec="utf-8"), max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    url=st.sampled_from(URLS),
    pairs=st.lists(st.tuples(st.sampled_from(["Body", "From", "To", "MessageSid", "NumMedia"]), text), max_size=6),
    algorithm=st.sampled_from(["HMAC_SHA1", "HMAC_SHA256", "hmac_sha256"]),
    signed_url=st.sampled_from(URLS),
    tamper=st.booleans(),
)
def test_agrees_with_twilios_validator(
    url: str, pairs: list[tuple[str, str]], algorithm: str, signed_url: str, tamper: bool
) -> None:
    params: MultiDict[str] = MultiDict(pairs)
    twilio = RequestValidator(TOKEN)
    signature = twilio.compute_signature(signed_url, params, algorithm)
    if tamper:
        signature = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
    ours = SignedForms(TOKEN, "https://unused.example").valid(url, params, signature, algorithm)
    assert ours == twilio.validate(url, params, signature, algorithm)


def test_an_unknown_algorithm_is_refused() -> None:
    params: MultiDict[str] = MultiDict([("Body", "hi")])
    signature = RequestValidator(TOKEN).compute_signature(URLS[0], params)
    assert not SignedForms(TOKEN, "https://unused.example").valid(URLS[0], params, signature, "HMAC_MD5")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([*"ab=&+%2Fz0é", "%C3%A9", "%E2%82", "%zz", "%%", "=="]), max_size=30).map("".join))
def test_form_pairs_read_as_parse_qsl_does(body: str) -> None:
    try:
        expected: list[tuple[str, str]] | None = parse_qsl(body, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        expected = None
    try:
        ours: list[tuple[str, str]] | None = form_pairs(body)
    except UnicodeDecodeError:
        ours = None
    assert ours == expected
