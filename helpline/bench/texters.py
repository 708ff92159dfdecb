"""Simulated texters: signed SMS webhooks, built before the clock starts, each carrying a unique tag.

Each phase has its own texters (distinct numbers); messages go to them in turn, so a texter's first
message opens a conversation (and its greeting goes out) and the rest join it. The tag in each body is
how the message is found again in the database after the run, to count it in and out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from helpline.bench.http_load import post_form
from helpline.bench.server import HELPLINE_NUMBER, SMS_PATH
from helpline.testing.twilio_api import FakeTwilio

TAG = re.compile(r"^\[bench (?P<phase>[a-z]+) (?P<index>\d+)\]")
BODY = "[bench {phase} {index}] Please can someone help, my daughter has not come home since Friday and I am worried"


def tag_of(body: str) -> tuple[str, int] | None:
    """The phase and index a benchmark message was sent with, if it is one."""
    match = TAG.match(body)
    return (match["phase"], int(match["index"])) if match else None


def number(phase_index: int, texter: int) -> str:
    """A texter's UK mobile number (07700 900xxx is Ofcom's drama range; the tail keeps them distinct)."""
    return f"+447{phase_index:02d}{texter:07d}"


@dataclass(frozen=True)
class Webhooks:
    """One phase's requests, in sending order."""

    phase: str
    requests: list[bytes]
    texters: int


def build(
    twilio: FakeTwilio, *, phase: str, phase_index: int, count: int, texters: int, public_url: str, ports: Sequence[int]
) -> Webhooks:
    """``count`` signed webhooks from ``texters`` texters, as Twilio would post them to ``public_url``; request ``i``
    is addressed to the server on ``ports[i % len(ports)]`` (round robin, as a load balancer would pass it on)."""
    requests = []
    for index in range(count):
        body = BODY.format(phase=phase, index=index)
        params = twilio.inbound_sms_params(number(phase_index, index % texters), HELPLINE_NUMBER, body)
        headers = {
            "X-Twilio-Signature": twilio.sign(public_url + SMS_PATH, params),
            "User-Agent": "TwilioProxy/1.1",
        }
        port = ports[index % len(ports)]
        requests.append(post_form("127.0.0.1", port, SMS_PATH, urlencode(params).encode("ascii"), headers))
    return Webhooks(phase, requests, min(texters, count))
