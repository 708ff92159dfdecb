"""The ceiling: a bare aiohttp endpoint that reads the same signed form and answers the same TwiML.

Run as its own process (``python -m helpline.bench.ceiling PORT``) on the same kind of event loop as the
server, it shows what aiohttp alone can answer on this machine: the server can only come close to it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from aiohttp import web

from helpline.loops import new_event_loop

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
PATH = "/webhooks/twilio/sms"


async def answer(request: web.Request) -> web.Response:
    form = await request.post()
    if "MessageSid" not in form or "Body" not in form:
        raise web.HTTPBadRequest
    return web.Response(text=TWIML, content_type="text/xml")


def application() -> web.Application:
    app = web.Application()
    app.router.add_post(PATH, answer)
    app.router.add_get("/healthz", lambda request: answer_ok())
    return app


async def answer_ok() -> web.Response:
    return web.Response(text="ok")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    port = int(args[0])
    web.run_app(application(), host="127.0.0.1", port=port, access_log=None, print=None, loop=new_event_loop())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
