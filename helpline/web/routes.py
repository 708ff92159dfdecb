"""The whole HTTP surface, in one place."""

from __future__ import annotations

from aiohttp import web

from helpline.channels.sms.webhook import SmsWebhooks
from helpline.web.api import ConsoleApi
from helpline.web.health import Health
from helpline.web.pages import STATIC, Pages


def add_routes(app: web.Application, *, api: ConsoleApi, pages: Pages, health: Health, sms: SmsWebhooks | None) -> None:
    conversation = "/api/conversations/{conversation_id}"
    app.router.add_routes(
        [
            web.get("/healthz", health.healthz, name="healthz"),
            web.get("/readyz", health.readyz, name="readyz"),
            web.get("/", pages.root, name="root"),
            web.get("/favicon.ico", pages.favicon, name="favicon"),
            web.get("/login", pages.login, name="login"),
            web.get("/console", pages.queue, name="console"),
            web.get("/console/conversations/{conversation_id}", pages.conversation, name="console-conversation"),
            web.static("/static", STATIC, name="static", append_version=False),
            web.post("/api/login", api.login, name="api-login"),
            web.post("/api/logout", api.logout, name="api-logout"),
            web.get("/api/session", api.session, name="api-session"),
            web.get("/api/queue", api.queue, name="api-queue"),
            web.get(conversation, api.conversation, name="api-conversation"),
            web.post(f"{conversation}/claim", api.claim, name="api-claim"),
            web.post(f"{conversation}/messages", api.reply, name="api-reply"),
            web.post(f"{conversation}/close", api.close, name="api-close"),
        ]
    )
    if sms is not None:
        app.router.add_post("/webhooks/twilio/sms", sms.inbound, name="twilio-sms")
        app.router.add_post("/webhooks/twilio/status", sms.status, name="twilio-status")
